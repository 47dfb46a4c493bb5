// Closing a netfilter netlink socket can wait: nf_tables, told of the
// release, first waits for the rules and chains a recent commit removed to
// be freed (an RCU grace period, some milliseconds), holding its commit
// mutex. A commit that deleted a rule, then closed its socket, paid that
// wait itself (as `iptables-nft -D` does when it exits). Sockets are closed
// on a thread of their own instead: the grace period passes meanwhile.
#pragma once
#include <libmnl/libmnl.h>

namespace iptc {

// Takes the socket; it is closed soon, off the calling thread.
void CloseNetlinkLater(mnl_socket* nl);

}  // namespace iptc
