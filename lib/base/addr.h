/*
 * addr: the one rule for an e-mail address, used wherever salesd meets one
 * (the configuration's from, cc and bcc; the recipients file; the message
 * headers), so that an address one part accepts is never refused by the
 * next at sending time.
 *
 * An address is plain ASCII local@domain: printable, no space, none of
 * < > ( ) [ ] \ , ; : " (they would break out of an address header or
 * separate addresses), exactly one @ with something on each side, a domain
 * with a dot that neither starts nor ends it, at most ADDR_MAX bytes. It is
 * a deliberately narrow subset of RFC 5321 (no quoted local parts, no
 * address literals, no internationalised addresses): what real recipients
 * use and what a header can carry without encoding.
 */
#ifndef SALESD_ADDR_H
#define SALESD_ADDR_H

#include <stddef.h>

/* Longest address (RFC 5321's limit on a forward path). */
#define ADDR_MAX 254

/* 0, or -EINVAL with *cause (may be NULL) saying what is wrong with a, quoted. */
int addr_check(const char *a, char **cause);

/*
 * Split "Display Name <local@domain>" (or a bare "local@domain") into the
 * name (trimmed; "" when there is none) and the address, each cut to fit its
 * buffer between characters, and check the address. 0 or -EINVAL with *cause.
 */
int addr_split(const char *s, char *name, size_t nlen, char *addr, size_t alen, char **cause);

#endif
