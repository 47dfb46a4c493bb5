#include "nft/close_later.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace iptc {

namespace {

struct Closer {
  std::mutex lock;
  std::condition_variable ready;
  std::deque<mnl_socket*> queue;
  bool started = false;

  void Loop() {
    std::unique_lock<std::mutex> hold(lock);
    for (;;) {
      ready.wait(hold, [&] { return !queue.empty(); });
      mnl_socket* nl = queue.front();
      queue.pop_front();
      hold.unlock();
      mnl_socket_close(nl);
      hold.lock();
    }
  }
};

// Never destroyed: the thread may still wait on it while the process exits
// (the kernel closes what is left).
Closer& TheCloser() {
  static Closer* c = new Closer();
  return *c;
}

}  // namespace

void CloseNetlinkLater(mnl_socket* nl) {
  if (!nl) return;
  Closer& c = TheCloser();
  std::lock_guard<std::mutex> hold(c.lock);
  if (!c.started) {
    try {
      std::thread([&c] { c.Loop(); }).detach();
      c.started = true;
    } catch (...) {
      mnl_socket_close(nl);  // no thread to be had: close it here, and wait
      return;
    }
  }
  c.queue.push_back(nl);
  c.ready.notify_one();
}

}  // namespace iptc
