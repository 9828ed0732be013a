#ifndef BFFTOP_NCURSES_SHIM_H
#define BFFTOP_NCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>

/* Swift 6 rejects references to these C globals; read them through functions. */
static inline WINDOW *bt_stdscr(void) { return stdscr; }
static inline int bt_lines(void) { return LINES; }
static inline int bt_cols(void) { return COLS; }
static inline int bt_colors(void) { return COLORS; }
static inline int bt_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t bt_a_normal(void) { return A_NORMAL; }
static inline attr_t bt_a_bold(void) { return A_BOLD; }
static inline attr_t bt_a_dim(void) { return A_DIM; }
static inline attr_t bt_a_reverse(void) { return A_REVERSE; }
static inline attr_t bt_a_underline(void) { return A_UNDERLINE; }
static inline attr_t bt_a_italic(void) { return A_ITALIC; }
static inline int bt_key_resize(void) { return KEY_RESIZE; }
static inline int bt_key_code_yes(void) { return KEY_CODE_YES; }

/* Writes one run of wide characters with attributes and a colour pair at (y, x). */
static inline int bt_put_run(int y, int x, const wchar_t *text, int len, attr_t attrs, int pair) {
    wmove(stdscr, y, x);
    wattr_set(stdscr, attrs, (short)pair, NULL);
    return waddnwstr(stdscr, text, len);
}
#endif
