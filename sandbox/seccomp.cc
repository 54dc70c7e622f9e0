#include "sandbox/seccomp.h"

#include <linux/netlink.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace sandbox {

std::string write_seccomp_bpf(int fd) {
  // Only the native architecture is allowed: any other (i386, x32) hits the bad-arch action.
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                       seccomp_release);
  if (!ctx) return "seccomp_init failed";
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  // A binary tree of syscall numbers instead of a list: every syscall the program makes pays.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);

  const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
  // Debugging other processes, kernel keyrings, BPF, perf, mounts and namespaces, module and
  // kernel loading, io_uring (bypasses this filter), userfaultfd (stalls the kernel on demand).
  const char* denied[] = {
      "ptrace",
      "process_vm_readv",
      "process_vm_writev",
      "kcmp",
      "pidfd_getfd",
      "keyctl",
      "add_key",
      "request_key",
      "bpf",
      "perf_event_open",
      "mount",
      "umount",
      "umount2",
      "pivot_root",
      "chroot",
      "move_mount",
      "open_tree",
      "fsopen",
      "fsconfig",
      "fsmount",
      "fspick",
      "mount_setattr",
      "unshare",
      "setns",
      "kexec_load",
      "kexec_file_load",
      "init_module",
      "finit_module",
      "delete_module",
      "io_uring_setup",
      "io_uring_enter",
      "io_uring_register",
      "userfaultfd",
      "open_by_handle_at",
      "name_to_handle_at",
      "swapon",
      "swapoff",
      "reboot",
      "acct",
      "quotactl",
      "settimeofday",
      "clock_settime",
      "clock_adjtime",
      "adjtimex",
      "syslog",
      "iopl",
      "ioperm",
      "lookup_dcookie",
      "vhangup",
      "nfsservctl",
      "fanotify_init",
  };
  for (const char* name : denied) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    if (seccomp_rule_add(ctx.get(), deny, nr, 0) != 0)
      return std::string("seccomp rule for ") + name;
  }
  // Sockets: no raw packets or VM sockets; netlink only for reading routes. getifaddrs() and
  // getaddrinfo(AI_ADDRCONFIG), which gloo needs, use NETLINK_ROUTE; in the box's own network
  // namespace and without CAP_NET_ADMIN it can only read. Audit, uevent, netfilter and the
  // other netlink families stay closed.
  for (int family : {AF_PACKET, AF_VSOCK}) {
    if (seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                         SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family))) != 0)
      return "seccomp rule for socket";
  }
  if (seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 2,
                       SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(AF_NETLINK)),
                       SCMP_A2(SCMP_CMP_NE, static_cast<scmp_datum_t>(NETLINK_ROUTE))) != 0)
    return "seccomp rule for netlink sockets";
  // clone with namespace flags would open the same doors as unshare. clone3 passes its flags
  // in memory the filter cannot read: ENOSYS makes libc fall back to clone.
  for (scmp_datum_t flag : {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
                            CLONE_NEWUTS, CLONE_NEWCGROUP}) {
    if (seccomp_rule_add(ctx.get(), deny, SCMP_SYS(clone), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)) != 0)
      return "seccomp rule for clone";
  }
  int clone3 = seccomp_syscall_resolve_name("clone3");
  if (clone3 != __NR_SCMP_ERROR &&
      seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), clone3, 0) != 0)
    return "seccomp rule for clone3";
  int rc = seccomp_export_bpf(ctx.get(), fd);
  if (rc != 0) return std::string("seccomp_export_bpf: ") + std::strerror(-rc);
  return "";
}

}  // namespace sandbox
