// Loads the filter that seccomp-bpf-gen compiled from seccomp.cc's rules at build time.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "sandbox/seccomp.h"

namespace sandbox {
namespace {

// Generated: `sock_filter kSeccompFilter[] = {...};`
#include "seccomp_filter.inc"

}  // namespace

std::string install_seccomp() {
  sock_fprog prog{static_cast<unsigned short>(std::size(kSeccompFilter)),
                  const_cast<sock_filter*>(kSeccompFilter)};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
    return std::string("seccomp: ") + std::strerror(errno);
  return "";
}

}  // namespace sandbox
