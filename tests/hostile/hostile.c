/* Hostile programs for the sandbox tests: `hostile MODE [ARG]`. Each mode tries one attack and
 * prints what happened; the tests decide from the verdict and from the host's state. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void *idle(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static int fill(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    printf("open %s: %s\n", path, strerror(errno));
    return 1;
  }
  static char block[1 << 16];
  memset(block, 'x', sizeof block);
  for (;;) {
    if (write(fd, block, sizeof block) < 0) {
      printf("write %s: %s\n", path, strerror(errno));
      return errno == ENOSPC ? 4 : 1;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *mode = argv[1];
  const char *arg = argc > 2 ? argv[2] : "";
  setvbuf(stdout, NULL, _IONBF, 0);

  if (!strcmp(mode, "exit")) return atoi(arg);
  if (!strcmp(mode, "echo")) {
    printf("%s\n", arg);
    fprintf(stderr, "err:%s\n", arg);
    return 0;
  }
  if (!strcmp(mode, "memory")) { /* touch 1 GiB */
    for (int i = 0; i < 1024; ++i) {
      char *p = malloc(1 << 20);
      if (!p) {
        printf("malloc failed after %d MiB\n", i);
        return 3;
      }
      memset(p, 1, 1 << 20);
    }
    return 0;
  }
  if (!strcmp(mode, "fork")) {
    for (;;) fork();
  }
  if (!strcmp(mode, "threads")) {
    for (int i = 0;; ++i) {
      pthread_t t;
      if (pthread_create(&t, NULL, idle, NULL) != 0) {
        if (i % 1000 == 0) sched_yield();
        continue; /* keep trying, like a real bomb */
      }
    }
  }
  if (!strcmp(mode, "spin")) {
    for (volatile unsigned long i = 0;; ++i) {
    }
  }
  if (!strcmp(mode, "sleep")) {
    for (;;) sleep(1000);
  }
  if (!strcmp(mode, "daemon")) { /* setsid + double fork, then write ARG after 1.5 s */
    if (fork() == 0) {
      setsid();
      if (fork() == 0) {
        for (int fd = 0; fd < 3; ++fd) close(fd);
        usleep(1500000);
        int fd = open(arg, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0) {
          write(fd, "survived\n", 9);
          close(fd);
        }
        for (;;) pause();
      }
      _exit(0);
    }
    wait(NULL);
    return 0;
  }
  if (!strcmp(mode, "flood")) { /* 1 GiB to stdout */
    static char block[1 << 16];
    memset(block, 'y', sizeof block);
    for (int i = 0; i < (1 << 14); ++i)
      if (write(1, block, sizeof block) < 0) return 1;
    return 0;
  }
  if (!strcmp(mode, "fill")) return fill(arg); /* a file in /tmp or /dev/shm, or the fsize test */
  if (!strcmp(mode, "connect")) {              /* ARG: port on 127.0.0.1 */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(arg))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
      printf("connected\n");
      return 0;
    }
    printf("connect: %s\n", strerror(errno));
    return 1;
  }
  if (!strcmp(mode, "read")) { /* ARG: a path that must not be readable */
    int fd = open(arg, O_RDONLY);
    if (fd < 0) {
      printf("open: %s\n", strerror(errno));
      return 1;
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("read %zd bytes\n", n);
    return 0;
  }
  if (!strcmp(mode, "write")) { /* ARG: a path on a read-only bind */
    int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      printf("open: %s\n", strerror(errno));
      return 1;
    }
    write(fd, "owned\n", 6);
    printf("wrote\n");
    return 0;
  }
  if (!strcmp(mode, "ptrace")) {
    pid_t child = fork();
    if (child == 0) {
      for (;;) pause();
    }
    long rc = ptrace(PTRACE_ATTACH, child, NULL, NULL);
    int e = errno;
    kill(child, SIGKILL);
    if (rc == 0) {
      printf("attached\n");
      return 0;
    }
    printf("ptrace: %s\n", strerror(e));
    return 1;
  }
  if (!strcmp(mode, "killall")) {
    int rc = kill(-1, SIGKILL);
    printf("kill(-1): %d\n", rc);
    return 0;
  }
  if (!strcmp(mode, "environ")) { /* ARG: a secret that must not be seen anywhere */
    extern char **environ;
    for (char **e = environ; *e; ++e)
      if (strstr(*e, arg)) {
        printf("found in environ\n");
        return 0;
      }
    char path[64], buf[1 << 16];
    for (int pid = 1; pid < 64; ++pid) {
      snprintf(path, sizeof path, "/proc/%d/environ", pid);
      int fd = open(path, O_RDONLY);
      if (fd < 0) continue;
      ssize_t n = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (n > 0 && memmem(buf, (size_t)n, arg, strlen(arg))) {
        printf("found in %s\n", path);
        return 0;
      }
    }
    printf("not found\n");
    return 1;
  }
  if (!strcmp(mode, "fds")) { /* any descriptor beyond stdio is a leak */
    int leaked = 0;
    for (int fd = 3; fd < 1024; ++fd) {
      struct stat st;
      if (fstat(fd, &st) == 0) {
        printf("fd %d open\n", fd);
        ++leaked;
      }
    }
    return leaked ? 0 : 1;
  }
  if (!strcmp(mode, "unshare")) {
    int rc = unshare(CLONE_NEWUSER);
    printf("unshare: %s\n", rc == 0 ? "ok" : strerror(errno));
    return rc == 0 ? 0 : 1;
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
