#ifndef BFFTOP_SYS_SHIM_H
#define BFFTOP_SYS_SHIM_H
/* recvmmsg is a GNU extension the Swift Glibc module does not expose: declare it by its symbol. */
#include <sys/socket.h>
#include <sys/uio.h>
#include <string.h>

struct bt_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

extern int bt_recvmmsg_sym(int fd, struct bt_mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout) __asm__("recvmmsg");

#define BT_MSG_WAITFORONE 0x10000
#define BT_MSG_TRUNC 0x20

/* Receives up to `n` datagrams into `n` slots of `slot` bytes each at `buf`, blocking for the first
   (MSG_WAITFORONE). Lengths go to `lens`, truncation flags to `trunc`. Returns the count or -1. */
static inline int bt_recv_datagrams(int fd, unsigned char *buf, int slot, int n, int *lens, int *trunc) {
    struct bt_mmsghdr msgs[256];
    struct iovec iov[256];
    if (n > 256) n = 256;
    memset(msgs, 0, sizeof(struct bt_mmsghdr) * (size_t)n);
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = buf + (size_t)i * (size_t)slot;
        iov[i].iov_len = (size_t)slot;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = bt_recvmmsg_sym(fd, msgs, (unsigned int)n, BT_MSG_WAITFORONE, NULL);
    for (int i = 0; i < r; i++) {
        lens[i] = (int)msgs[i].msg_len;
        trunc[i] = (msgs[i].msg_hdr.msg_flags & BT_MSG_TRUNC) != 0;
    }
    return r;
}

/* Thread names (shown by htop, top -H, perf): a GNU call the Glibc module hides. */
#include <pthread.h>
extern int bt_pthread_setname_sym(pthread_t thread, const char *name) __asm__("pthread_setname_np");

static inline void bt_name_current_thread(const char *name) {
    char buf[16];
    strncpy(buf, name, 15);
    buf[15] = 0;
    (void)bt_pthread_setname_sym(pthread_self(), buf);
}

/* Powers of ten for the number parser, as tables: a Swift `switch` on the digit count compiled
   to an indirect jump that mispredicted on every number whose length differs from the last. */
#include <stdint.h>
static const uint64_t bt_pow10_u64_table[16] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL};
static const double bt_pow10_f64_table[32] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 0, 0, 0, 0, 0, 0, 0, 0, 0};

/* 10^n for n <= 15. */
static inline uint64_t bt_pow10_u64(unsigned n) { return bt_pow10_u64_table[n & 15]; }
/* 10^n for n <= 22, exact. */
static inline double bt_pow10_f64(unsigned n) { return bt_pow10_f64_table[n & 31]; }

/* The user id of the process at the other end of a connected Unix socket (SO_PEERCRED): a client
   checks that the dashboard it is about to send to runs as the same user. `struct ucred` needs
   _GNU_SOURCE, which the Swift Glibc module is built without, so its layout is spelled out here. */
#include <sys/types.h>
struct bt_ucred { pid_t pid; uid_t uid; gid_t gid; };
static inline int bt_peer_uid(int fd, unsigned int *uid) {
#ifdef SO_PEERCRED
    struct bt_ucred c;
    socklen_t len = sizeof(c);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) != 0 || len != sizeof(c)) return -1;
    *uid = (unsigned int)c.uid;
    return 0;
#else
    (void)fd; (void)uid;
    return -1;
#endif
}

#endif
