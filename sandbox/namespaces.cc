#include "sandbox/namespaces.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "sandbox/policy.h"

namespace sandbox {

const char* to_string(Isolation i) {
  switch (i) {
    case Isolation::Namespaces:
      return "namespaces";
    case Isolation::UserNamespaces:
      return "user namespaces";
    case Isolation::None:
      return "none";
  }
  return "none";
}

unsigned long clone_flags(Isolation i) {
  // Only what must exist at birth. As root, init unshares its mount, IPC and UTS namespaces
  // itself, and the supervisor makes the network namespace, each side while the other works
  // (see late_namespaces() and run.cc); in a user namespace, which must own all the others,
  // everything but the network comes with the clone.
  switch (i) {
    case Isolation::Namespaces:
      return CLONE_NEWPID;
    case Isolation::UserNamespaces:
      return CLONE_NEWUSER | CLONE_NEWPID | late_namespaces(Isolation::Namespaces);
    case Isolation::None:
      return 0;
  }
  return 0;
}

unsigned long late_namespaces(Isolation i) {
  return i == Isolation::Namespaces ? CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS : 0;
}

namespace {
bool write_proc(pid_t pid, const char* file, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}
}  // namespace

std::string write_id_maps(pid_t child) {
  // setgroups must be denied before an unprivileged process may write gid_map.
  if (!write_proc(child, "setgroups", "deny"))
    return std::string("setgroups: ") + std::strerror(errno);
  if (!write_proc(child, "uid_map",
                  std::to_string(kBoxId) + " " + std::to_string(geteuid()) + " 1"))
    return std::string("uid_map: ") + std::strerror(errno);
  if (!write_proc(child, "gid_map",
                  std::to_string(kBoxId) + " " + std::to_string(getegid()) + " 1"))
    return std::string("gid_map: ") + std::strerror(errno);
  return "";
}

void set_hostname() {
  if (sethostname("box", 3) != 0)
    throw std::runtime_error(std::string("sethostname: ") + std::strerror(errno));
}

void bring_up_loopback() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 ||
      (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)) {
    int err = errno;
    close(fd);
    throw std::runtime_error(std::string("loopback up: ") + std::strerror(err));
  }
  close(fd);
}

}  // namespace sandbox
