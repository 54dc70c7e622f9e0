// Inside a container the sandbox often lacks what it needs: new user namespaces (Docker's
// default seccomp profile refuses them), a fresh /proc (the engine masks parts of /proc, so
// the kernel refuses a new one), writable cgroups. This finds out which, by trying, and says
// which `docker run` / `podman run` options give them back. The sandbox itself then runs
// with what it has and reports `enforced` honestly; this only explains why, and how to fix it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace grader {

struct ContainerProbe {
  std::string container;           // "" outside a container, else "docker", "podman" or "container"
  bool user_namespace = false;     // unshare(CLONE_NEWUSER) with a uid map worked
  bool proc_mount = false;         // a fresh /proc mounted in new user + pid + mount namespaces
  bool network_namespace = false;  // unshare(CLONE_NEWNET) inside the new user namespace
  bool hostname = false;  // sethostname in a new UTS namespace (podman's seccomp refuses it)
  std::string cgroup;     // "v2", "v1" (writable), "read-only" or "none"
};

// Tries each thing in a short-lived child process (about 2 ms); never throws.
ContainerProbe probe_container();

// Empty when outside a container or when nothing is missing; else a few lines naming what is
// missing, what the grader does instead, and the run options that fix it.
std::string container_advice(const ContainerProbe& probe);

// {"schema_version": 1, "container": ..., "user_namespace": ..., "proc_mount": ...,
//  "network_namespace": ..., "hostname": ..., "cgroup": ..., "advice": "..."}
nlohmann::json container_probe_json(const ContainerProbe& probe);

}  // namespace grader
