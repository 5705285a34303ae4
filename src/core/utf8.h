/* utf8: validation of UTF-8 text (shortest form, no surrogates, <= U+10FFFF). */
#ifndef BRISK_UTF8_H
#define BRISK_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the valid sequence starting at s (at most n bytes), or 0. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* True if all n bytes are valid UTF-8; *bad (if not NULL) gets the offset
 * of the first invalid byte. */
bool utf8_valid(const char *s, size_t n, size_t *bad);

#endif
