#ifndef BFFTOP_CCURL_SHIM_H
#define BFFTOP_CCURL_SHIM_H
/* libcurl through one non-variadic call per request: Swift cannot call curl_easy_setopt (variadic).
   libcurl is opened with dlopen on first use, not linked: it brings ~16 libraries (OpenSSL, nghttp2,
   LDAP…) whose pages would count against the dashboard's memory even when nothing is invoked.
   For the same reason the build needs no curl headers: the few types and constants used are declared
   here, with the values of libcurl's stable ABI (curl/curl.h, libcurl.so.4). */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef void CURL;
typedef int CURLcode;
typedef int CURLoption;
typedef int CURLINFO;
struct curl_slist { char *data; struct curl_slist *next; };

#define CURL_ERROR_SIZE 256
#define BT_CURL_GLOBAL_DEFAULT 3L
#define BT_CURLOPT_URL 10002
#define BT_CURLOPT_CUSTOMREQUEST 10036
#define BT_CURLOPT_NOBODY 44
#define BT_CURLOPT_POSTFIELDS 10015
#define BT_CURLOPT_POSTFIELDSIZE 60
#define BT_CURLOPT_HTTPHEADER 10023
#define BT_CURLOPT_TIMEOUT_MS 155
#define BT_CURLOPT_CONNECTTIMEOUT_MS 156
#define BT_CURLOPT_NOSIGNAL 99
#define BT_CURLOPT_WRITEFUNCTION 20011
#define BT_CURLOPT_WRITEDATA 10001
#define BT_CURLOPT_HEADERFUNCTION 20079
#define BT_CURLOPT_HEADERDATA 10029
#define BT_CURLOPT_ERRORBUFFER 10010
#define BT_CURLOPT_USERAGENT 10018
#define BT_CURLINFO_RESPONSE_CODE 0x200002
#define BT_CURLINFO_STARTTRANSFER_TIME 0x300011
#define BT_CURLINFO_TOTAL_TIME 0x300003

/* The CURLcode values HTTPClient tells apart. */
#define CURLE_OK 0
#define CURLE_UNSUPPORTED_PROTOCOL 1
#define CURLE_FAILED_INIT 2
#define CURLE_URL_MALFORMAT 3
#define CURLE_COULDNT_RESOLVE_PROXY 5
#define CURLE_COULDNT_RESOLVE_HOST 6
#define CURLE_COULDNT_CONNECT 7
#define CURLE_OPERATION_TIMEDOUT 28
#define CURLE_SSL_CONNECT_ERROR 35
#define CURLE_SSL_CERTPROBLEM 58
#define CURLE_SSL_CIPHER 59
#define CURLE_PEER_FAILED_VERIFICATION 60
#define CURLE_SSL_CACERT_BADFILE 77

typedef struct {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLcode (*global_init)(long);
    int ok;
} bt_curl_api;

/* Resolved once; the first call must not race (HTTPClient makes it from a Swift lazy static). */
static inline bt_curl_api *bt_curl(void) {
    static bt_curl_api api;
    static int tried = 0;
    if (!tried) {
        tried = 1;
        void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!h) h = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
        if (h) {
            api.easy_init = (CURL *(*)(void))dlsym(h, "curl_easy_init");
            api.easy_setopt = (CURLcode (*)(CURL *, CURLoption, ...))dlsym(h, "curl_easy_setopt");
            api.easy_perform = (CURLcode (*)(CURL *))dlsym(h, "curl_easy_perform");
            api.easy_getinfo = (CURLcode (*)(CURL *, CURLINFO, ...))dlsym(h, "curl_easy_getinfo");
            api.easy_cleanup = (void (*)(CURL *))dlsym(h, "curl_easy_cleanup");
            api.slist_append = (struct curl_slist *(*)(struct curl_slist *, const char *))dlsym(h, "curl_slist_append");
            api.slist_free_all = (void (*)(struct curl_slist *))dlsym(h, "curl_slist_free_all");
            api.global_init = (CURLcode (*)(long))dlsym(h, "curl_global_init");
            api.ok = api.easy_init && api.easy_setopt && api.easy_perform && api.easy_getinfo && api.easy_cleanup
                && api.slist_append && api.slist_free_all && api.global_init;
            if (api.ok) api.global_init(BT_CURL_GLOBAL_DEFAULT);
        }
    }
    return &api;
}

/* Returned by bt_http_request when libcurl cannot be loaded. */
#define BT_NO_LIBCURL (-1)

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;   /* bytes kept; the rest is counted in `total` and dropped */
    size_t total;
} bt_buf;

static size_t bt_buf_write(char *p, size_t size, size_t n, void *user) {
    bt_buf *b = (bt_buf *)user;
    size_t len = size * n;
    b->total += len;
    size_t keep = b->len + len > b->limit ? (b->limit > b->len ? b->limit - b->len : 0) : len;
    if (keep > 0) {
        if (b->len + keep + 1 > b->cap) {
            size_t cap = (b->len + keep + 1) * 2;
            char *d = (char *)realloc(b->data, cap);
            if (!d) return len;
            b->data = d;
            b->cap = cap;
        }
        memcpy(b->data + b->len, p, keep);
        b->len += keep;
        b->data[b->len] = 0;
    }
    return len;
}

static inline void bt_buf_free(bt_buf *b) { free(b->data); b->data = NULL; b->len = b->cap = 0; }

static inline int bt_curl_available(void) { return bt_curl()->ok; }

/* One HTTP request. `headers` is a '\n'-separated list of "Name: value" lines (or NULL).
   Returns the CURLcode; fills status, seconds to first byte and total, body and header buffers,
   and `err` (CURL_ERROR_SIZE bytes) with libcurl's message. */
static inline int bt_http_request(const char *method, const char *url, const char *headers, const char *body, long bodyLen,
                                  long timeoutMs, long connectTimeoutMs, bt_buf *out, bt_buf *hdr,
                                  long *status, double *ttfb, double *total, char *err) {
    bt_curl_api *api = bt_curl();
    if (!api->ok) return BT_NO_LIBCURL;
    CURL *c = api->easy_init();
    if (!c) return CURLE_FAILED_INIT;
    struct curl_slist *list = NULL;
    if (headers) {
        char *copy = strdup(headers);
        char *save = NULL;  /* strtok_r: requests run on several threads at once */
        for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
            list = api->slist_append(list, line);
        free(copy);
    }
    err[0] = 0;
    api->easy_setopt(c, BT_CURLOPT_URL, url);
    api->easy_setopt(c, BT_CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0) api->easy_setopt(c, BT_CURLOPT_NOBODY, 1L);
    if (body) {
        api->easy_setopt(c, BT_CURLOPT_POSTFIELDS, body);
        api->easy_setopt(c, BT_CURLOPT_POSTFIELDSIZE, bodyLen);
    }
    if (list) api->easy_setopt(c, BT_CURLOPT_HTTPHEADER, list);
    api->easy_setopt(c, BT_CURLOPT_TIMEOUT_MS, timeoutMs);
    api->easy_setopt(c, BT_CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMs);
    api->easy_setopt(c, BT_CURLOPT_NOSIGNAL, 1L);
    api->easy_setopt(c, BT_CURLOPT_WRITEFUNCTION, bt_buf_write);
    api->easy_setopt(c, BT_CURLOPT_WRITEDATA, out);
    api->easy_setopt(c, BT_CURLOPT_HEADERFUNCTION, bt_buf_write);
    api->easy_setopt(c, BT_CURLOPT_HEADERDATA, hdr);
    api->easy_setopt(c, BT_CURLOPT_ERRORBUFFER, err);
    api->easy_setopt(c, BT_CURLOPT_USERAGENT, "bfftop/0.1");
    CURLcode r = api->easy_perform(c);
    api->easy_getinfo(c, BT_CURLINFO_RESPONSE_CODE, status);
    api->easy_getinfo(c, BT_CURLINFO_STARTTRANSFER_TIME, ttfb);
    api->easy_getinfo(c, BT_CURLINFO_TOTAL_TIME, total);
    api->slist_free_all(list);
    api->easy_cleanup(c);
    return (int)r;
}
#endif
