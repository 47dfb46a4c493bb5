// Opening a libiptc handle for a table, with the errors people can act on.
// Shared by reading and committing. Call inside the namespace, under XtGuard.
#pragma once
#include <string>

#include "errors.h"
#include "family.h"

namespace iptc {

xtc_handle* OpenHandle(const Family& fam, const std::string& table, Failure& failure);

// The digest of everything in the handle but counters.
uint64_t DigestHandle(const Family& fam, xtc_handle* h);

}  // namespace iptc
