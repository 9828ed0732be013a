#ifndef BFFTOP_CCURL_SHIM_H
#define BFFTOP_CCURL_SHIM_H
/* libcurl through one non-variadic call per request: Swift cannot call curl_easy_setopt (variadic). */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

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

static inline void bt_curl_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* One HTTP request. `headers` is a '\n'-separated list of "Name: value" lines (or NULL).
   Returns the CURLcode; fills status, seconds to first byte and total, body and header buffers,
   and `err` (CURL_ERROR_SIZE bytes) with libcurl's message. */
static inline int bt_http_request(const char *method, const char *url, const char *headers, const char *body, long bodyLen,
                                  long timeoutMs, long connectTimeoutMs, bt_buf *out, bt_buf *hdr,
                                  long *status, double *ttfb, double *total, char *err) {
    CURL *c = curl_easy_init();
    if (!c) return CURLE_FAILED_INIT;
    struct curl_slist *list = NULL;
    if (headers) {
        char *copy = strdup(headers);
        for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) list = curl_slist_append(list, line);
        free(copy);
    }
    err[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, bodyLen);
    }
    if (list) curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeoutMs);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMs);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bt_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, bt_buf_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, hdr);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bfftop/0.1");
    CURLcode r = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_getinfo(c, CURLINFO_STARTTRANSFER_TIME, ttfb);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, total);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    return (int)r;
}
#endif
