/*
 * wafind: finding WhatsApp Web's elements by ordered strategy lists, and
 * clearing the dialogs that cover the page, for waweb (waweb.h).
 *
 * A strategy list is the value of one [whatsapp] selector_* key: strategies
 * separated by "|" (outside brackets and parentheses and the quoted strings
 * inside them, so that a CSS [lang|=en] or [title="a|b"] stays whole), tried in order, the first that matches a visible
 * element winning. A strategy is a CSS selector (a comma-separated group is
 * one strategy, so a single selector of old is a list of one), or "text:"
 * and a phrase: an element whose whole visible text is the phrase (case and
 * runs of white space aside), or the button, link or menu item around it.
 * The list is evaluated in the page in one WebDriver "Execute Script", so
 * trying six strategies costs one round trip, not six.
 *
 * A dialog covers the page when an element with role "dialog" or
 * "alertdialog" (or aria-modal) shows and holds nothing of the caller's own
 * (the preview of an attachment is a dialog too: the one holding the caption
 * box), or when a click was intercepted by an element over its target.
 *
 * Errors as webdriver.h's. Blocking: for the salesd-whatsapp child only.
 */
#ifndef SALESD_WAFIND_H
#define SALESD_WAFIND_H

#include <stddef.h>

#include "deliver/webdriver.h"

/* The strategies of list, in order (a NULL-terminated vector; free with util_strv_free); NULL when out of memory. */
char **wafind_split(const char *list, size_t *n);

/*
 * The first strategy of list that matches a visible element below scope (an
 * element reference; NULL: the document); {chat} in a CSS strategy is chat
 * as a quoted CSS string, in a text strategy chat itself. 0 with the
 * element's reference in *el (caller frees) and the strategy's index in
 * *index, or -ENOENT (*index -1) when none matches.
 */
int wafind_first(struct webdriver *wd, const char *list, const char *chat, const char *scope, char **el,
    int *index, char **cause);

/*
 * Every visible match of one strategy: of strategy only (0-based), or with
 * only -1 of the first strategy that matches anything. A NULL-terminated
 * vector into *els (util_strv_free; empty when nothing matches), its length
 * into *n and the strategy's index into *index (-1: none matched).
 */
int wafind_all(struct webdriver *wd, const char *list, int only, char ***els, size_t *n, int *index, char **cause);

/*
 * The dialog covering the page: with target (the element a click was meant
 * for), the element over its centre, widened to the outermost ancestor that
 * does not hold target; else the first dialog showing that holds no match
 * of ours (a strategy list; NULL: none is ours). 0 with *dialog (caller
 * frees; NULL when nothing covers the page) and its visible text, white
 * space collapsed and cut to 160 bytes, in *text (caller frees).
 */
int wafind_dialog(struct webdriver *wd, const char *ours, const char *target, char **dialog, char **text,
    char **cause);

/* Is the dialog still showing? A stale reference is a dialog that went away (false). */
int wafind_showing(struct webdriver *wd, const char *dialog, bool *showing, char **cause);

/*
 * The one button-like element in dialog whose visible text is a phrase of
 * phrases (a "|"-separated list, tried in order; a phrase matching two
 * buttons is passed over). 0 with *button (caller frees) and the phrase
 * into *phrase (caller frees), or -ENOENT.
 */
int wafind_button(struct webdriver *wd, const char *dialog, const char *phrases, char **button, char **phrase,
    char **cause);

/* Press Escape in dialog (focused first, so that the key does not reach the caption box behind it). */
int wafind_escape(struct webdriver *wd, const char *dialog, char **cause);

#endif
