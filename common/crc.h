/* satoken: CRC-32 (IEEE 802.3, as zlib's crc32), for the token checksum
 * and the store record checksum.  Not a MAC: it catches typos and torn
 * records, nothing more. */
#ifndef SATOKEN_CRC_H
#define SATOKEN_CRC_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over n bytes at p; start with crc = 0. */
uint32_t crc32_ieee(uint32_t crc, const void *p, size_t n);

#endif
