#include "match/normalize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* DESIGN
 *
 * norm_name makes one pass over the input, decoding UTF-8, and writes the
 * folded letters of each word contiguously into a scratch buffer while
 * recording words (offset, length, a few flags) in an array. Word-level
 * rules then work on that array: single letters separated by exactly one dot
 * merge into the word before ("s.a.r.l" is one word), company suffixes are
 * dropped from the end while at least one word would remain, then a leading
 * "the". The surviving words are appended to the output with single spaces. */

typedef struct {
	size_t off, len;     /* bytes in the scratch buffer */
	size_t ncp;          /* input code points folded into the word */
	unsigned letter : 1; /* a single letter, or letters merged by dots */
	unsigned amp : 1;    /* the word "&" */
	unsigned dot_before : 1; /* separated from the previous word by one '.' */
} word_t;

typedef struct {
	buf_t text;
	word_t *w;
	size_t n, cap;
	word_t small[32];
	int in_word;
	size_t sep;     /* separator characters since the last word */
	int sep_is_dot; /* ... and the only one was '.' */
	int cur_digit;  /* the current word holds a digit or non-Latin text */
} words_t;

/* Latin-1 U+00C0..U+00FF then Latin Extended-A U+0100..U+017F folded to one
 * ASCII letter; upper-case codes stand for two letters (A=ae, T=th, S=ss,
 * I=ij, O=oe) and ' ' for a non-letter (the signs x and /). */
static const char latin_fold[] =
	"aaaaaaAceeeeiiiidnooooo ouuuuyTSaaaaaaAceeeeiiiidnooooo ouuuuyTy"
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiIIjjkkkllllllllll"
	"nnnnnnnnnooooooOOrrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
_Static_assert(sizeof latin_fold - 1 == 0x180 - 0xC0, "latin_fold covers U+00C0..U+017F");

/* Suffix words, longest phrases first; each entry is one or two words. */
static const char *const suffixes[][2] = {
	{"sdn", "bhd"}, {"&", "co"}, {"and", "co"},
	{"bhd", NULL}, {"ltd", NULL}, {"limited", NULL}, {"llc", NULL},
	{"inc", NULL}, {"incorporated", NULL}, {"gmbh", NULL}, {"co", NULL},
	{"corp", NULL}, {"corporation", NULL}, {"plc", NULL}, {"pty", NULL},
	{"pte", NULL}, {"sa", NULL}, {"sarl", NULL}, {"bv", NULL}, {"ag", NULL},
	{"llp", NULL},
};

static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp);
static int is_separator_cp(uint32_t c);
static int is_apostrophe(uint32_t c);
static void word_char(words_t *ws, const char *p, size_t n, int digit);
static void word_end(words_t *ws);
static void word_sep(words_t *ws, uint32_t c);
static int word_is(const words_t *ws, size_t i, const char *s);
static int has_word(const words_t *ws, size_t from, size_t to);

void norm_name(const char *in, size_t len, buf_t *out)
{
	const unsigned char *s = (const unsigned char *)in;
	words_t ws = {.text = BUF_INIT, .w = NULL, .n = 0, .cap = 32};
	ws.w = ws.small;
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t l = utf8_next(s + i, len - i, &c);
		const char *raw = in + i;
		i += l;
		if (c < 0x80) {
			if (c >= 'A' && c <= 'Z') {
				char lc = (char)(c - 'A' + 'a');
				word_char(&ws, &lc, 1, 0);
			} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
				word_char(&ws, raw, 1, c <= '9');
			} else if (c == '&') {
				word_end(&ws);
				word_char(&ws, "&", 1, 0);
				ws.w[ws.n - 1].amp = 1;
				word_end(&ws);
			} else if (!is_apostrophe(c)) {
				word_sep(&ws, c);
			}
		} else if (c >= 0xC0 && c < 0x180) {
			char f = latin_fold[c - 0xC0];
			static const char *const two[] = {['A'] = "ae", ['T'] = "th", ['S'] = "ss",
			                                  ['I'] = "ij", ['O'] = "oe"};
			if (f == ' ')
				word_sep(&ws, c);
			else if (f >= 'a')
				word_char(&ws, &f, 1, 0);
			else
				word_char(&ws, two[(unsigned char)f], 2, 0);
		} else if (c == 0xAA || c == 0xBA) {
			word_char(&ws, c == 0xAA ? "a" : "o", 1, 0); /* ordinal indicators */
		} else if (c == 0xB9 || c == 0xB2 || c == 0xB3) {
			word_char(&ws, c == 0xB9 ? "1" : c == 0xB2 ? "2" : "3", 1, 1);
		} else if (is_apostrophe(c)) {
			continue;
		} else if (c == 0xFFFFFFFF || is_separator_cp(c)) {
			word_sep(&ws, c);
		} else {
			/* Another script's letter: kept as written. Counted like a
			 * digit so that it never joins a dotted acronym. */
			word_char(&ws, raw, l, 1);
		}
	}
	word_end(&ws);

	/* Strip suffixes from the end while a real word (not a leading "the",
	 * not "&") would remain before them; then a leading "the" likewise. */
	size_t from = ws.n && word_is(&ws, 0, "the") ? 1 : 0;
	for (int again = 1; again;) {
		again = 0;
		for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++) {
			size_t nw = suffixes[k][1] ? 2 : 1;
			if (ws.n < nw)
				continue;
			size_t at = ws.n - nw;
			if (!word_is(&ws, at, suffixes[k][0]) ||
			    (nw == 2 && !word_is(&ws, at + 1, suffixes[k][1])) ||
			    !has_word(&ws, from, at))
				continue;
			ws.n = at;
			again = 1;
			break;
		}
	}
	size_t first = from && has_word(&ws, 1, ws.n) ? 1 : 0;

	int any = 0;
	for (size_t k = first; k < ws.n; k++) {
		if (ws.w[k].amp)
			continue;
		if (any)
			buf_putc(out, ' ');
		buf_put(out, ws.text.p + ws.w[k].off, ws.w[k].len);
		any = 1;
	}
	if (!any)
		buf_put(out, "", 0); /* still NUL-terminated when empty */
	if (ws.w != ws.small)
		free(ws.w);
	buf_free(&ws.text);
}

void norm_invoice(const char *in, size_t len, buf_t *out)
{
	const unsigned char *s = (const unsigned char *)in;
	buf_reserve(out, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		switch (c) {
		case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
		case '-': case '_': case '/': case '#': case '.':
			continue;
		default:
			break;
		}
		if (c == 0xC2 && i + 1 < len && s[i + 1] == 0xA0) { /* no-break space */
			i++;
			continue;
		}
		if (c == 0xE2 && i + 2 < len &&
		    ((s[i + 1] == 0x80 && s[i + 2] >= 0x90 && s[i + 2] <= 0x95) ||
		     (s[i + 1] == 0x88 && s[i + 2] == 0x92))) { /* dashes, minus */
			i += 2;
			continue;
		}
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		buf_putc(out, (char)c);
	}
	buf_put(out, "", 0); /* NUL-terminated even if nothing was kept */
}

size_t norm_tokens(const char *s, size_t len, slice_t *tok, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < len;) {
		while (i < len && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
			i++;
		if (i == len)
			break;
		size_t start = i;
		while (i < len && !(s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
			i++;
		if (k < max)
			tok[k] = (slice_t){s + start, i - start};
		k++;
	}
	return k;
}

/* Decodes one code point at s; an invalid byte gives 0xFFFFFFFF and length 1,
 * so malformed input only ever separates words. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t need;
	*cp = c;
	if (c < 0x80)
		return 1;
	*cp = 0xFFFFFFFF;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1, c &= 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 2, c &= 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 3, c &= 0x07, min = 0x10000;
	else
		return 1;
	if (n <= need)
		return 1;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 1;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 1;
	*cp = c;
	return need + 1;
}

/* Non-ASCII punctuation, symbols and spaces that separate words. Letters of
 * other scripts are not listed and stay part of words. */
static int is_separator_cp(uint32_t c)
{
	return (c >= 0x80 && c <= 0xBF && c != 0xB5) || /* C1 controls, Latin-1 signs */
	       (c >= 0x2000 && c <= 0x206F) ||           /* general punctuation */
	       (c >= 0x20A0 && c <= 0x20CF) ||           /* currency signs */
	       (c >= 0x3000 && c <= 0x303F) ||           /* CJK punctuation */
	       (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
	       (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
	       c == 0xFEFF || c == 0x1680;
}

/* Apostrophes join rather than separate: bank statements write "OBRIEN" and
 * "MACYS" for O'Brien and Macy's. */
static int is_apostrophe(uint32_t c)
{
	return c == '\'' || c == '`' || c == 0x2018 || c == 0x2019 || c == 0x02BC ||
	       c == 0xB4;
}

static void word_char(words_t *ws, const char *p, size_t n, int digit)
{
	if (!ws->in_word) {
		if (ws->n == ws->cap) {
			size_t cap = ws->cap * 2;
			word_t *w = xmalloc(cap * sizeof *w);
			memcpy(w, ws->w, ws->n * sizeof *w);
			if (ws->w != ws->small)
				free(ws->w);
			ws->w = w;
			ws->cap = cap;
		}
		int dot = ws->n > 0 && ws->sep == 1 && ws->sep_is_dot;
		ws->w[ws->n++] = (word_t){.off = ws->text.len, .dot_before = dot};
		ws->in_word = 1;
		ws->cur_digit = 0;
	}
	word_t *w = &ws->w[ws->n - 1];
	buf_put(&ws->text, p, n);
	w->len += n;
	w->ncp++;
	ws->cur_digit |= digit;
	ws->sep = 0;
	ws->sep_is_dot = 0;
}

static void word_end(words_t *ws)
{
	if (!ws->in_word)
		return;
	ws->in_word = 0;
	word_t *w = &ws->w[ws->n - 1];
	w->letter = w->ncp == 1 && !ws->cur_digit && !w->amp;
	/* Words are contiguous in the scratch text, so merging a dotted letter
	 * into the acronym before it is only a matter of lengths. */
	if (w->letter && w->dot_before && ws->n > 1 && ws->w[ws->n - 2].letter) {
		ws->w[ws->n - 2].len += w->len;
		ws->n--;
	}
}

static void word_sep(words_t *ws, uint32_t c)
{
	word_end(ws);
	ws->sep++;
	ws->sep_is_dot = ws->sep == 1 && c == '.';
}

static int word_is(const words_t *ws, size_t i, const char *s)
{
	size_t n = strlen(s);
	return ws->w[i].len == n && memcmp(ws->text.p + ws->w[i].off, s, n) == 0;
}

/* Whether words [from, to) hold one that will be printed (not "&"). */
static int has_word(const words_t *ws, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (!ws->w[i].amp)
			return 1;
	return 0;
}
