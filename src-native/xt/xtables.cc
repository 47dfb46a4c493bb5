#include "xt/xtables.h"

#include "xt/xt_glue.h"

namespace iptc {

std::mutex& GlobalMutex() {
  static std::mutex m;
  return m;
}

XtGuard::XtGuard(Failure& failure) : lock_(GlobalMutex()), ok_(true) {
  char err[XTG_ERRLEN];
  if (xtg_init(err, sizeof(err)) != 0) {
    failure.set("ERR_IPTC_XTABLES", err);
    ok_ = false;
  }
}

}  // namespace iptc
