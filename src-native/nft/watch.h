// What nf_tables announces of every change in a network namespace: a
// netlink socket subscribed to NFNLGRP_NFTABLES, opened once per namespace
// (lazily, by the first table this process comes to know there) and read
// without blocking. A socket holds its namespace alive, so one in another
// namespace than the process's own is closed when the Netns naming it is
// (NftWatchRelease): what it had received is kept for the next read, and
// after that a change by another program means a dump again. After each batch the kernel sends one message per
// table, chain and rule the batch changed, then NEWGEN with the generation
// it made: that is what lets a table known at generation G be brought to
// G+1, G+2, ... without a dump (nft/known.h). Call inside the namespace.
#pragma once
#include <stdint.h>

#include <vector>

namespace iptc {

// One batch as announced: its messages (whole netlink messages, as
// received) and the generation it made.
struct NftEventBatch {
  uint32_t genid = 0;
  std::vector<std::vector<char>> messages;
};

// Opens the namespace's socket if it is not open. Returns its epoch (a new
// one for every socket opened: a table known under another epoch may have
// missed events), or 0 when no socket could be opened.
uint64_t NftWatchEnsure(uint64_t netns);

// The epoch of the namespace's socket (0: none open).
uint64_t NftWatchEpoch(uint64_t netns);

enum class NftDrain {
  kNone,  // no socket in this namespace
  kOk,    // `out` holds every whole batch announced since the last drain
  kLost,  // the kernel dropped events (ENOBUFS), or the socket failed: the
          // socket is closed, and what was announced cannot be trusted
};
// Reads what has arrived. When `until` has not been announced yet (the
// kernel bumps the generation before it sends the batch's messages), waits
// up to `waitMs` for it. A batch whose NEWGEN has not come yet is kept for
// the next drain.
NftDrain NftWatchDrain(uint64_t netns, uint64_t epoch, uint32_t until, int waitMs, std::vector<NftEventBatch>& out);

// The Netns `fd` is being closed: the socket watching its namespace (if
// any) is read to its end and closed. (Call on any thread.)
void NftWatchRelease(int fd);

// Closes the namespace's socket (while none is open, the kernel builds no
// announcements: a large batch of our own costs nothing more).
void NftWatchClose(uint64_t netns);

}  // namespace iptc
