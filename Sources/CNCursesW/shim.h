#ifndef BFFTOP_NCURSES_SHIM_H
#define BFFTOP_NCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

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

/* Whether $TERM can draw a dashboard, asked before anything starts: initscr() exits the process
   on an unknown TERM (leaving sockets behind), and a terminal that cannot move the cursor (dumb,
   hardcopy) would scribble on one line. 0 usable; 1 unknown to terminfo; 2 no terminfo database;
   3 cannot address the cursor. */
static inline int bt_terminal_check(void) {
    int err = 0;
    if (setupterm(NULL, 1, &err) != OK) return err == 0 ? 1 : err == -1 ? 2 : 3;
    const char *cup = tigetstr("cup");
    int ok = cup != NULL && cup != (const char *)-1;
    del_curterm(cur_term);
    cur_term = NULL;
    return ok ? 0 : 3;
}

/* Writes one run of wide characters with attributes and a colour pair at (y, x). */
static inline int bt_put_run(int y, int x, const wchar_t *text, int len, attr_t attrs, int pair) {
    wmove(stdscr, y, x);
    /* The int through `opts` lets pair numbers pass 32767 (ncurses extended colours). */
    wattr_set(stdscr, attrs, (short)(pair > 32767 ? 0 : pair), &pair);
    return waddnwstr(stdscr, text, len);
}
/* Direct-colour terminals (TERM=xterm-direct): colour numbers are 0xRRGGBB. */
static inline int bt_init_pair(int pair, int fg, int bg) { return init_extended_pair(pair, fg, bg); }
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <fcntl.h>
#include <unistd.h>

/* Key codes (octal macros in curses.h) as functions, so Swift never depends on macro import. */
static inline int bt_key_up(void) { return KEY_UP; }
static inline int bt_key_down(void) { return KEY_DOWN; }
static inline int bt_key_left(void) { return KEY_LEFT; }
static inline int bt_key_right(void) { return KEY_RIGHT; }
static inline int bt_key_home(void) { return KEY_HOME; }
static inline int bt_key_end(void) { return KEY_END; }
static inline int bt_key_npage(void) { return KEY_NPAGE; }
static inline int bt_key_ppage(void) { return KEY_PPAGE; }
static inline int bt_key_enter(void) { return KEY_ENTER; }
static inline int bt_key_backspace(void) { return KEY_BACKSPACE; }
static inline int bt_key_btab(void) { return KEY_BTAB; }
static inline int bt_key_mouse(void) { return KEY_MOUSE; }
static inline int bt_key_sleft(void) { return KEY_SLEFT; }
static inline int bt_key_sright(void) { return KEY_SRIGHT; }

/* Mouse wheel: returns 1 for up, 2 for down, 0 otherwise. */
static inline void bt_enable_wheel(void) { mousemask(BUTTON4_PRESSED | BUTTON5_PRESSED, NULL); mouseinterval(0); }
static inline int bt_wheel(void) {
    MEVENT ev;
    if (getmouse(&ev) != OK) return 0;
    if (ev.bstate & BUTTON4_PRESSED) return 1;
#ifdef BUTTON5_PRESSED
    if (ev.bstate & BUTTON5_PRESSED) return 2;
#endif
    return 0;
}

/* Crash safety: on a fatal signal, put the terminal back (saved termios, leave the alternate
   screen, show the cursor, reset attributes) using only async-signal-safe calls, then die. */
struct bt_tty_state { struct termios saved; int have; };
static inline struct bt_tty_state *bt_tty(void) {
    static struct bt_tty_state state;
    return &state;
}

static inline void bt_restore_tty_raw(void) {
    static const char reset[] = "\033[0m\033[?1000l\033[?1006l\033[?1049l\033[?25h\r\n";
    if (bt_tty()->have) tcsetattr(STDIN_FILENO, TCSANOW, &bt_tty()->saved);
    ssize_t ignored = write(STDOUT_FILENO, reset, sizeof(reset) - 1);
    (void)ignored;
}

#define BT_NSIGS 6
static inline int *bt_fatal_sigs(void) {
    static int sigs[BT_NSIGS] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
    return sigs;
}
static inline struct sigaction *bt_previous_actions(void) {
    static struct sigaction previous[BT_NSIGS];
    return previous;
}

/* Restores the terminal, then hands the signal to whoever handled it before (Swift's
   backtracer prints the crash report on a sane terminal), or to the default action. Standard
   input becomes /dev/null first, so an interactive backtracer (SWIFT_BACKTRACE=interactive=yes;
   bfftop starts with interactive=no, see BFFTop.main) cannot sit waiting for a key. */
/* Set by a fatal signal: the UI thread stops drawing, so the crash report is not painted over. */
static inline volatile sig_atomic_t *bt_crash_flag(void) {
    static volatile sig_atomic_t crashed = 0;
    return &crashed;
}
static inline int bt_crashed(void) { return (int)*bt_crash_flag(); }

static void bt_fatal_signal(int sig) {
    *bt_crash_flag() = sig;
    bt_restore_tty_raw();
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) { dup2(devnull, STDIN_FILENO); if (devnull != STDIN_FILENO) close(devnull); }
    for (int i = 0; i < BT_NSIGS; i++) {
        if (bt_fatal_sigs()[i] == sig) { sigaction(sig, &bt_previous_actions()[i], NULL); break; }
    }
    /* Delivered to that handler as this one returns (the signal is blocked until then). Swift's
       backtracer prints its report and returns; a real fault then repeats and ends the process,
       abort() ends it itself, but a fatal signal sent with kill would be survived: SIGALRM's
       default action ends the process in 5 s at the latest, time enough for the report. */
    raise(sig);
    alarm(5);
}

static inline void bt_install_crash_handlers(void) {
    if (tcgetattr(STDIN_FILENO, &bt_tty()->saved) == 0) bt_tty()->have = 1;
    for (int i = 0; i < BT_NSIGS; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = bt_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
        sigaction(bt_fatal_sigs()[i], &sa, &bt_previous_actions()[i]);
    }
}
/* Quit requests (SIGINT, SIGTERM, SIGHUP): the handler only records the signal; the UI loop polls
   it between key reads. Installed with sigaction, so a SIG_IGN inherited from a background shell
   cannot make Ctrl-C a no-op. */
static inline volatile sig_atomic_t *bt_quit_flag(void) {
    static volatile sig_atomic_t flag;
    return &flag;
}
static void bt_quit_signal(int sig) { *bt_quit_flag() = sig; }
static inline void bt_install_quit_handlers(void) {
    int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    sigset_t unblock;
    sigemptyset(&unblock);
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = bt_quit_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&unblock, sigs[i]);
    }
    /* This (the UI) thread takes them even if they were blocked in whatever started it. */
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
}
static inline int bt_quit_requested(void) { return (int)*bt_quit_flag(); }
#endif
