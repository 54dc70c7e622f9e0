// The system call filter, installed last before execve.
#pragma once

#include <string>

namespace sandbox {

// Installs the filter on the calling thread (no_new_privs must already be set). Returns an
// empty string on success, else the problem.
std::string install_seccomp();

}  // namespace sandbox
