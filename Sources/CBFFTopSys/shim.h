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

#endif
