/*
 * brig-net: the bridge driver's executor (src/engine/network/bridge-driver.ts decides).
 *
 * netavark spends ~470 ms of a `run --rm` on the default bridge here, almost all of it in 79
 * `iptables` processes (setup and teardown each check and make the network's chains anew when
 * a container is the bridge's only one). This program does a container's wiring with
 * rtnetlink in one process, and the firewall in one iptables-restore transaction per change:
 * the network's chains when its bridge is made, a container's port rules, and their removal
 * when the bridge goes with its last port. TypeScript compiles every name, address and rule;
 * this program only carries the ops out, in order, and stops at the first that fails.
 *
 * Ops, one argv element each (KEY=VALUE; fields of VALUE separated by \x1f so that rule text
 * can hold anything else):
 *   netns=PATH                         a new network namespace bound on PATH; "netns" on stdout
 *   lock=PATH                          flock(2) PATH for the rest (brig's network lock)
 *   bridge=NAME US ADDR/PLEN US MTU     make the bridge if missing (address, up); says whether
 *                                      it made it, for the next new-rules op
 *   new-rules=RULES US UNDO            when the last bridge op made its bridge: iptables-restore
 *                                      RULES (after UNDO, leniently, if the first try fails:
 *                                      what a killed run left)
 *   rules=RULES                        iptables-restore RULES, which must apply
 *   unrules=RULES                      remove RULES: one transaction, or line by line, ignoring
 *                                      what is gone already
 *   sysctl=PATH US VALUE               write VALUE to /proc/sys/PATH
 *   veth=HOST US PEER US NETNS US BRIDGE US MAC US MTU US ADDR/PLEN US GATEWAY
 *                                      a veth pair: HOST on BRIDGE, PEER in the namespace
 *                                      file NETNS with its address, up, the default route
 *                                      through GATEWAY ("-": none) if there is none yet
 *   release=PATH                       unmount the namespace file PATH (as often as it is
 *                                      mounted) and remove it
 *   gc-bridge=NAME US UNDO US MARKER US LINKS
 *                                      delete the links LINKS (comma-separated: a container's
 *                                      veths), and with them NAME when they are its only ports,
 *                                      then unrules=UNDO and remove the file MARKER
 *
 * Exit 0 when every op was carried out; else 1 with "brig-net: OP: reason" on stderr.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEP '\x1f'
#define MAXF 10

static const char *current_op = "";

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "brig-net: %s: ", current_op);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* Splits VALUE in place at SEP; returns the number of fields. */
static int fields(char *v, char **out, int max) {
  int n = 0;
  out[n++] = v;
  for (char *p = v; *p && n < max; p++)
    if (*p == SEP) {
      *p = 0;
      out[n++] = p + 1;
    }
  return n;
}

/* ---- rtnetlink ---- */

/* One request: a header and its attributes (h points into buf, so bounds are buf's). */
struct req {
  _Alignas(struct nlmsghdr) char buf[2048];
  struct nlmsghdr *h;
};

static int nl_open(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) die("netlink socket: %s", strerror(errno));
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("netlink bind: %s", strerror(errno));
  return fd;
}

static struct rtattr *attr(struct nlmsghdr *h, int type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static struct rtattr *nest(struct nlmsghdr *h, int type) { return attr(h, type, NULL, 0); }
static void nest_end(struct nlmsghdr *h, struct rtattr *a) { a->rta_len = (char *)h + h->nlmsg_len - (char *)a; }

/* Sends one request and reads its ack: 0 or -errno. */
static int nl_talk(int fd, struct nlmsghdr *h) {
  static unsigned seq;
  h->nlmsg_seq = ++seq;
  h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (send(fd, h, h->nlmsg_len, 0) < 0) return -errno;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, (size_t)n); r = NLMSG_NEXT(r, n)) {
      if (r->nlmsg_seq != h->nlmsg_seq) continue;
      if (r->nlmsg_type == NLMSG_ERROR) return ((struct nlmsgerr *)NLMSG_DATA(r))->error;
    }
  }
}

/* A request of TYPE whose fixed header (ifinfomsg, ifaddrmsg, rtmsg) is LEN bytes, zeroed; that header. */
static void *msg_init(struct req *r, int type, int flags, size_t len) {
  memset(r, 0, sizeof *r);
  r->h = (struct nlmsghdr *)r->buf;
  r->h->nlmsg_len = NLMSG_LENGTH(len);
  r->h->nlmsg_type = type;
  r->h->nlmsg_flags = flags;
  return NLMSG_DATA(r->h);
}

static void link_msg(struct req *r, int type, int flags, int index) {
  struct ifinfomsg *i = msg_init(r, type, flags, sizeof(struct ifinfomsg));
  i->ifi_family = AF_UNSPEC;
  i->ifi_index = index;
}

static int link_up(int fd, int index) {
  struct req r;
  link_msg(&r, RTM_NEWLINK, 0, index);
  struct ifinfomsg *i = NLMSG_DATA(r.h);
  i->ifi_flags = IFF_UP;
  i->ifi_change = IFF_UP;
  return nl_talk(fd, r.h);
}

static int parse_cidr(const char *s, struct in_addr *a, int *plen) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s", s);
  char *slash = strchr(buf, '/');
  if (!slash) return -1;
  *slash = 0;
  *plen = atoi(slash + 1);
  if (*plen < 0 || *plen > 32) return -1;
  return inet_pton(AF_INET, buf, a) == 1 ? 0 : -1;
}

static int add_addr(int fd, int index, const char *cidr) {
  struct in_addr a;
  int plen;
  if (parse_cidr(cidr, &a, &plen) < 0) die("bad address %s", cidr);
  struct req r;
  struct ifaddrmsg *m = msg_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ifaddrmsg));
  m->ifa_family = AF_INET;
  m->ifa_prefixlen = plen;
  m->ifa_index = index;
  attr(r.h, IFA_LOCAL, &a, 4);
  attr(r.h, IFA_ADDRESS, &a, 4);
  if (plen < 31) {
    struct in_addr b = {.s_addr = a.s_addr | htonl(plen == 0 ? 0xffffffffu : (1u << (32 - plen)) - 1)};
    attr(r.h, IFA_BROADCAST, &b, 4);
  }
  return nl_talk(fd, r.h);
}

static int add_default_route(int fd, int index, const char *gw) {
  struct in_addr g;
  if (inet_pton(AF_INET, gw, &g) != 1) die("bad gateway %s", gw);
  struct req r;
  struct rtmsg *m = msg_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct rtmsg));
  m->rtm_family = AF_INET;
  m->rtm_table = RT_TABLE_MAIN;
  m->rtm_protocol = RTPROT_BOOT;
  m->rtm_scope = RT_SCOPE_UNIVERSE;
  m->rtm_type = RTN_UNICAST;
  attr(r.h, RTA_GATEWAY, &g, 4);
  attr(r.h, RTA_OIF, &index, 4);
  return nl_talk(fd, r.h);
}

static int parse_mac(const char *s, unsigned char mac[6]) {
  return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

/* ---- iptables-restore ---- */

/* Starts iptables-restore -w -n with TEXT on its stdin; its pid. */
static pid_t restore_start(const char *text, int quiet) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    dup2(p[0], 0);
    if (quiet) {
      int null = open("/dev/null", O_WRONLY);
      if (null >= 0) dup2(null, 2);
    }
    execlp("iptables-restore", "iptables-restore", "-w", "-n", (char *)NULL);
    fprintf(stderr, "brig-net: cannot run iptables-restore: %s\n", strerror(errno));
    _exit(127);
  }
  close(p[0]);
  size_t len = strlen(text);
  for (size_t off = 0; off < len;) {
    ssize_t w = write(p[1], text + off, len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      break; /* EPIPE: its exit status tells */
    }
    off += w;
  }
  close(p[1]);
  return pid;
}

/* The exit status of a restore_start (or -1). */
static int restore_wait(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs iptables-restore -w -n with TEXT on its stdin; its exit status (or -1). */
static int restore(const char *text, int quiet) { return restore_wait(restore_start(text, quiet)); }

/*
 * Removes RULES: as one transaction when all of it is there (the common case), else one
 * iptables command per line, each allowed to fail (a rule or chain gone already, a chain
 * still referenced by someone else's rule).
 */
static void unrules_lines(char *text);
static void unrules(char *text) {
  if (restore(text, 1) != 0) unrules_lines(text);
}

/* unrules' second way: each line on its own, whatever becomes of the others. */
static void unrules_lines(char *text) {
  char table[32] = "filter";
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '*') {
      snprintf(table, sizeof table, "%s", line + 1);
      continue;
    }
    if (line[0] != '-') continue;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "*%s\n%s\nCOMMIT\n", table, line);
    restore(cmd, 1);
  }
}

/* ---- ops ---- */

static int made_bridge = -1; /* -1 no bridge op yet; 0 it was there; 1 this run made it */

static void op_bridge(char *v) {
  char *f[MAXF];
  if (fields(v, f, MAXF) != 3) die("want NAME, ADDR/PLEN, MTU");
  int fd = nl_open();
  struct req r;
  link_msg(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  attr(r.h, IFLA_IFNAME, f[0], strlen(f[0]) + 1);
  int mtu = atoi(f[2]);
  if (mtu > 0) attr(r.h, IFLA_MTU, &mtu, 4);
  struct rtattr *li = nest(r.h, IFLA_LINKINFO);
  attr(r.h, IFLA_INFO_KIND, "bridge", 7);
  nest_end(r.h, li);
  int e = nl_talk(fd, r.h);
  if (e == -EEXIST) {
    made_bridge = 0;
    close(fd);
    return;
  }
  if (e < 0) die("cannot make bridge %s: %s", f[0], strerror(-e));
  made_bridge = 1;
  int index = if_nametoindex(f[0]);
  if (!index) die("bridge %s: %s", f[0], strerror(errno));
  if ((e = add_addr(fd, index, f[1])) < 0 && e != -EEXIST) die("address %s on %s: %s", f[1], f[0], strerror(-e));
  if ((e = link_up(fd, index)) < 0) die("cannot set %s up: %s", f[0], strerror(-e));
  close(fd);
}

/*
 * A new network's rules go in while the next ops make the veth (both take a few ms of the
 * kernel's time, and neither needs the other); settle() waits for them before the exit or
 * the next op that changes rules.
 */
static struct {
  pid_t pid;
  char *rules, *undo;
} pending;

static void settle(void) {
  if (!pending.pid) return;
  int st = restore_wait(pending.pid);
  pending.pid = 0;
  if (st == 0) return;
  /* What a killed run left in the way: removed, then the rules again, which must apply. */
  unrules(pending.undo);
  if (restore(pending.rules, 0) != 0) die("iptables-restore refused the network's rules");
}

static void op_new_rules(char *v) {
  char *f[MAXF];
  if (fields(v, f, MAXF) != 2) die("want RULES, UNDO");
  if (made_bridge != 1) return;
  settle();
  pending.rules = f[0];
  pending.undo = f[1];
  pending.pid = restore_start(f[0], 1);
}

static void op_sysctl(char *v) {
  char *f[MAXF];
  if (fields(v, f, MAXF) != 2) die("want PATH, VALUE");
  if (strstr(f[0], "..")) die("bad path %s", f[0]);
  char p[256];
  snprintf(p, sizeof p, "/proc/sys/%s", f[0]);
  int fd = open(p, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die("%s: %s", p, strerror(errno));
  if (write(fd, f[1], strlen(f[1])) < 0) die("%s: %s", p, strerror(errno));
  close(fd);
}

static void op_veth(char *v) {
  char *f[MAXF];
  if (fields(v, f, MAXF) != 8) die("want HOST, PEER, NETNS, BRIDGE, MAC, MTU, ADDR/PLEN, GATEWAY");
  const char *host = f[0], *peer = f[1], *netns = f[2], *bridge = f[3], *mac = f[4], *addr = f[6], *gw = f[7];
  int mtu = atoi(f[5]);
  int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) die("network namespace %s: %s", netns, strerror(errno));
  int brindex = if_nametoindex(bridge);
  if (!brindex) die("bridge %s: %s", bridge, strerror(errno));
  int fd = nl_open();
  struct req r;
  link_msg(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  attr(r.h, IFLA_IFNAME, host, strlen(host) + 1);
  if (mtu > 0) attr(r.h, IFLA_MTU, &mtu, 4);
  struct rtattr *li = nest(r.h, IFLA_LINKINFO);
  attr(r.h, IFLA_INFO_KIND, "veth", 5);
  struct rtattr *data = nest(r.h, IFLA_INFO_DATA);
  struct rtattr *pi = nest(r.h, VETH_INFO_PEER);
  r.h->nlmsg_len += sizeof(struct ifinfomsg); /* the peer's ifinfomsg, zeroed */
  attr(r.h, IFLA_IFNAME, peer, strlen(peer) + 1);
  attr(r.h, IFLA_NET_NS_FD, &nsfd, 4);
  if (mtu > 0) attr(r.h, IFLA_MTU, &mtu, 4);
  unsigned char m[6];
  if (strcmp(mac, "-") != 0) {
    if (parse_mac(mac, m) < 0) die("bad MAC address %s", mac);
    attr(r.h, IFLA_ADDRESS, m, 6);
  }
  nest_end(r.h, pi);
  nest_end(r.h, data);
  nest_end(r.h, li);
  int e = nl_talk(fd, r.h);
  if (e < 0) die("cannot make veth %s: %s", host, strerror(-e));
  int index = if_nametoindex(host);
  if (!index) die("veth %s: %s", host, strerror(errno));
  link_msg(&r, RTM_NEWLINK, 0, index);
  attr(r.h, IFLA_MASTER, &brindex, 4);
  if ((e = nl_talk(fd, r.h)) < 0) die("cannot put %s on %s: %s", host, bridge, strerror(-e));
  if ((e = link_up(fd, index)) < 0) die("cannot set %s up: %s", host, strerror(-e));
  close(fd);

  /* The container's side, from inside its namespace; back to the host's after. */
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) die("own network namespace: %s", strerror(errno));
  if (setns(nsfd, CLONE_NEWNET) < 0) die("setns %s: %s", netns, strerror(errno));
  fd = nl_open();
  if ((e = link_up(fd, 1)) < 0) die("cannot set lo up: %s", strerror(-e));
  int pindex = if_nametoindex(peer);
  if (!pindex) die("%s in %s: %s", peer, netns, strerror(errno));
  if ((e = add_addr(fd, pindex, addr)) < 0) die("address %s on %s: %s", addr, peer, strerror(-e));
  if ((e = link_up(fd, pindex)) < 0) die("cannot set %s up: %s", peer, strerror(-e));
  if (strcmp(gw, "-") != 0 && (e = add_default_route(fd, pindex, gw)) < 0 && e != -EEXIST) die("default route via %s: %s", gw, strerror(-e));
  close(fd);
  if (setns(self, CLONE_NEWNET) < 0) die("back to the host's network namespace: %s", strerror(errno));
  close(self);
  close(nsfd);
}

/* Whether NAME is one of the comma-separated names in LIST. */
static int listed(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && !strncmp(p, name, n)) return 1;
    if (!comma) break;
    p = comma + 1;
  }
  return 0;
}

/* Whether any of the links named in LIST (comma-separated), or BRIDGE, is still in this namespace. */
static int listed_present(const char *list, const char *bridge) {
  if (bridge && if_nametoindex(bridge)) return 1;
  char names[1024];
  snprintf(names, sizeof names, "%s", list);
  char *save = NULL;
  for (char *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save))
    if (if_nametoindex(name)) return 1;
  return 0;
}

/*
 * Deletes the links named in LIST (and BRIDGE, unless NULL) in one batch: each RTM_DELLINK
 * waits for RCU grace periods in the kernel (~25 ms for a veth and ~40 for a bridge here),
 * and a deletion by device group pays that once for all of them. The group is made of
 * this process's id (under brig's network lock, no other brig-net runs meanwhile).
 */
static void del_batch(const char *list, const char *bridge) {
  int fd = nl_open();
  unsigned group = 0x62720000u ^ (unsigned)getpid();
  int marked = 0;
  char names[1024];
  snprintf(names, sizeof names, "%s", list);
  for (char *name = strtok(names, ","); name; name = strtok(NULL, ",")) {
    int index = if_nametoindex(name);
    if (!index) continue; /* gone already */
    struct req r;
    link_msg(&r, RTM_NEWLINK, 0, index);
    attr(r.h, IFLA_GROUP, &group, 4);
    int e = nl_talk(fd, r.h);
    if (e == -ENODEV) continue;
    if (e < 0) die("cannot mark %s for deletion: %s", name, strerror(-e));
    marked++;
  }
  if (bridge) {
    int index = if_nametoindex(bridge);
    if (index) {
      struct req r;
      link_msg(&r, RTM_NEWLINK, 0, index);
      attr(r.h, IFLA_GROUP, &group, 4);
      int e = nl_talk(fd, r.h);
      if (e < 0 && e != -ENODEV) die("cannot mark %s for deletion: %s", bridge, strerror(-e));
      if (e == 0) marked++;
    }
  }
  if (marked) {
    /*
     * The kernel takes the links out of the namespace at once, then waits for RCU grace
     * periods and the last references before the request returns (~25-40 ms here, even for a
     * bridge never up). A child waits for that, holding the network lock (inherited), so that
     * no other change starts before it is done; this process goes on once the links are gone
     * from the namespace (all anyone can see of them), or reports the child's failure.
     */
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
      /* Not the caller's: its pipes must close when this process's parent exits. */
      int null = open("/dev/null", O_RDWR);
      if (null >= 0) dup2(null, 1), dup2(null, 2);
      struct req r;
      link_msg(&r, RTM_DELLINK, 0, 0);
      attr(r.h, IFLA_GROUP, &group, 4);
      int e = nl_talk(fd, r.h);
      _exit(e < 0 && e != -ENODEV ? 1 : 0);
    }
    for (int i = 0;; i++) {
      if (!listed_present(list, bridge)) break;
      int st;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || listed_present(list, bridge)) die("cannot delete links");
        break;
      }
      if (i == 4000) die("links still there after 2 s");
      struct timespec ts = {0, 500000};
      nanosleep(&ts, NULL);
    }
  }
  close(fd);
}

/* The bridge's ports: 1 if one is not in OURS, 0 if none is, -1 if there is no such bridge. */
static int has_other_ports(const char *bridge, const char *ours) {
  char p[128];
  snprintf(p, sizeof p, "/sys/class/net/%s/brif", bridge);
  DIR *d = opendir(p);
  if (!d) return -1;
  struct dirent *e;
  int other = 0;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && !listed(ours, e->d_name)) other = 1;
  closedir(d);
  return other;
}

static void op_gc_bridge(char *v) {
  char *f[MAXF];
  if (fields(v, f, MAXF) != 4) die("want NAME, UNDO, MARKER, LINKS");
  const char *bridge = f[0], *marker = f[2], *ours = f[3];
  settle();
  int other = has_other_ports(bridge, ours);
  /* Still in use: only the container's own links go. Gone, and no marker: an earlier teardown removed the rules with it. */
  if (other > 0 || (other < 0 && access(marker, F_OK) != 0)) {
    del_batch(ours, NULL);
    return;
  }
  /* The rules come off while the kernel deletes the links (each takes a few ms). */
  pid_t pid = restore_start(f[1], 1);
  del_batch(ours, other == 0 ? bridge : NULL);
  if (restore_wait(pid) != 0) unrules_lines(f[1]);
  if (unlink(marker) < 0 && errno != ENOENT) die("%s: %s", marker, strerror(errno));
}

/*
 * A new network namespace bound on PATH (`ip netns add`), and "netns" on stdout once it is
 * there: the caller starts the container in it while the next ops wire it.
 */
static void op_netns(char *v) {
  int fd = open(v, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) die("%s: %s", v, strerror(errno));
  close(fd);
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) die("own network namespace: %s", strerror(errno));
  if (unshare(CLONE_NEWNET) < 0) die("unshare(CLONE_NEWNET): %s", strerror(errno));
  int e = mount("/proc/self/ns/net", v, NULL, MS_BIND, NULL) < 0 ? errno : 0;
  if (setns(self, CLONE_NEWNET) < 0) die("back to the host's network namespace: %s", strerror(errno));
  close(self);
  if (e) die("mount on %s: %s", v, strerror(e));
  if (write(1, "netns\n", 6) != 6) die("stdout: %s", strerror(errno));
}

static void op_release(char *v) {
  /* Mounted twice (two brigs raced to make it) comes off one at a time. */
  for (int i = 0; umount2(v, UMOUNT_NOFOLLOW) == 0; i++)
    if (i == 8) die("%s stays mounted", v);
  /* EINVAL: not (or no longer) a mount point. */
  if (errno != EINVAL && errno != ENOENT) die("unmount %s: %s", v, strerror(errno));
  if (unlink(v) < 0 && errno != ENOENT) die("%s: %s", v, strerror(errno));
}

static void op_lock(char *v) {
  int fd = open(v, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) die("%s: %s", v, strerror(errno));
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) die("flock %s: %s", v, strerror(errno));
  /* Held until exit. */
}

int main(int argc, char **argv) {
  /* A caller that went away must not take us down half-way through a change of the host's. */
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  for (int i = 1; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) {
      current_op = argv[i];
      die("not KEY=VALUE");
    }
    *eq = 0;
    current_op = argv[i];
    char *v = eq + 1;
    if (!strcmp(argv[i], "lock")) op_lock(v);
    else if (!strcmp(argv[i], "netns")) op_netns(v);
    else if (!strcmp(argv[i], "release")) op_release(v);
    else if (!strcmp(argv[i], "bridge")) op_bridge(v);
    else if (!strcmp(argv[i], "new-rules")) op_new_rules(v);
    else if (!strcmp(argv[i], "rules")) {
      settle();
      if (restore(v, 0) != 0) die("iptables-restore refused the rules");
    } else if (!strcmp(argv[i], "unrules")) {
      settle();
      unrules(v);
    }
    else if (!strcmp(argv[i], "sysctl")) op_sysctl(v);
    else if (!strcmp(argv[i], "veth")) op_veth(v);
    else if (!strcmp(argv[i], "gc-bridge")) op_gc_bridge(v);
    else die("unknown op");
  }
  current_op = "new-rules";
  settle();
  return 0;
}
