/* sha256.h - SHA-256 of a buffer (job files are identified by it). */
#ifndef AISP_SHA256_H
#define AISP_SHA256_H

#include <stddef.h>

/* Lower-case hex digest of data[0..len) into hex (65 bytes with the NUL). */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif /* AISP_SHA256_H */
