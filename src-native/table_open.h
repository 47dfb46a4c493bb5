// Opening a libiptc handle for a table, with the errors people can act on.
// Shared by reading and committing. Call inside the namespace, under XtGuard.
#pragma once
#include <string>

#include "errors.h"
#include "family.h"

namespace iptc {

xtc_handle* OpenHandle(const Family& fam, const std::string& table, Failure& failure);

// Whether the table exists in the calling thread's namespace, without
// creating it (reading a table makes the kernel instantiate it): 1 yes,
// 0 no, -1 the kernel has no legacy tables of this family here at all.
int TableExists(const Family& fam, const std::string& table);

// Message for TableExists() == -1.
std::string NoLegacyMessage(const Family& fam);

// True when the handle holds a table as the kernel makes it: built-in chains
// only, no rules, every policy ACCEPT.
bool IsPristine(const Family& fam, xtc_handle* h);

// The digest of everything in the handle but counters.
uint64_t DigestHandle(const Family& fam, xtc_handle* h);

}  // namespace iptc
