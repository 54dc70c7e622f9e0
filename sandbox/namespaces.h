// Namespaces: which ones a run gets, the user id maps, and the box's own network and name.
#pragma once

#include <sys/types.h>

#include <string>

namespace sandbox {

// How much isolation this process can have, strongest first.
enum class Isolation {
  Namespaces,      // root: new pid, mount, net, ipc, uts, cgroup namespaces
  UserNamespaces,  // unprivileged: the same inside a new user namespace
  None,            // neither works (e.g. a container's seccomp profile): rlimits and seccomp only
};

const char* to_string(Isolation i);
// The namespaces the clone creates, and those init then unshares itself.
unsigned long clone_flags(Isolation i);
unsigned long late_namespaces(Isolation i);

// Parent side, user namespaces only: map the box id onto our own uid and gid.
std::string write_id_maps(pid_t child);

// Child side: hostname "box"; loopback up when asked. Throws std::runtime_error.
void set_hostname();
void bring_up_loopback();

}  // namespace sandbox
