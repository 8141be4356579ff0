/*
 * pam_pushauth.so: runs `pushauth-pam auth` and relays what it says through the PAM conversation.
 *
 * Why a module and not pam_exec: pam_exec can only send PAM_TEXT_INFO, and sshd's
 * keyboard-interactive holds PAM_TEXT_INFO back until the next prompt (OpenSSH bug 2876), so an
 * SSH user would never see the number to type. This module lets the program ask real prompts.
 *
 * Built by `pushauth-pam install` (gcc, libpam0g-dev). Usage in /etc/pam.d/<service>:
 *
 *   auth required pam_pushauth.so [program=/path/to/pushauth-pam] [args for the program...]
 *
 * The program talks to the module over one socket (its stdin and stdout), one line per message:
 *
 *   info <text>             -> PAM_TEXT_INFO        (no answer)
 *   error <text>            -> PAM_ERROR_MSG        (no answer)
 *   prompt-echo-on <text>   -> PAM_PROMPT_ECHO_ON   (the answer is sent back as one line)
 *   prompt-echo-off <text>  -> PAM_PROMPT_ECHO_OFF  (the answer is sent back as one line)
 *
 * Its exit status is the verdict: 0 success, 2 authinfo unavailable (server unreachable,
 * failmode secure), 3 service error (bad configuration), 4 user unknown, anything else (and any
 * signal) an authentication failure. The program runs as root with a fixed, minimal environment:
 * nothing the invoking user controls (PYTHONPATH, LD_PRELOAD, ...) reaches it.
 */
#define _GNU_SOURCE
#define PAM_SM_AUTH

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#ifndef PUSHAUTH_PAM_PROGRAM
#define PUSHAUTH_PAM_PROGRAM "/usr/local/bin/pushauth-pam"
#endif

#define MAX_ARGS 32
#define MAX_ENV 16
#define LINE_MAX_BYTES 1024

static int verdict(int status) {
    if (!WIFEXITED(status)) return PAM_AUTH_ERR;
    switch (WEXITSTATUS(status)) {
        case 0: return PAM_SUCCESS;
        case 2: return PAM_AUTHINFO_UNAVAIL;
        case 3: return PAM_SERVICE_ERR;
        case 4: return PAM_USER_UNKNOWN;
        default: return PAM_AUTH_ERR;
    }
}

/* A program that someone other than root could replace would run as root: refuse it. */
static int program_is_safe(pam_handle_t *pamh, const char *program) {
    struct stat st;
    if (program[0] != '/') {
        pam_syslog(pamh, LOG_ERR, "program=%s is not an absolute path", program);
        return 0;
    }
    if (stat(program, &st) != 0) {
        pam_syslog(pamh, LOG_ERR, "cannot stat %s: %s", program, strerror(errno));
        return 0;
    }
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        pam_syslog(pamh, LOG_ERR, "%s must be owned by root and not group- or world-writable",
                   program);
        return 0;
    }
    return 1;
}

static void add_env(char **env, int *count, pam_handle_t *pamh, const char *name, int item) {
    const void *value = NULL;
    if (pam_get_item(pamh, item, &value) != PAM_SUCCESS || value == NULL) return;
    char *entry = NULL;
    if (asprintf(&entry, "%s=%s", name, (const char *)value) < 0) return;
    if (*count < MAX_ENV - 1) env[(*count)++] = entry; else free(entry);
}

static int send_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += sent;
        length -= (size_t)sent;
    }
    return 0;
}

/* Relays one line from the program; returns -1 when the conversation failed. With PAM_SILENT,
 * info and error messages are not shown (prompts still are: they carry the number). */
static int relay(pam_handle_t *pamh, int fd, char *line, int silent) {
    static const struct { const char *tag; int style; } kinds[] = {
        {"info ", PAM_TEXT_INFO},
        {"error ", PAM_ERROR_MSG},
        {"prompt-echo-on ", PAM_PROMPT_ECHO_ON},
        {"prompt-echo-off ", PAM_PROMPT_ECHO_OFF},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].tag);
        if (strncmp(line, kinds[i].tag, n) != 0) continue;
        int prompt = kinds[i].style == PAM_PROMPT_ECHO_ON || kinds[i].style == PAM_PROMPT_ECHO_OFF;
        if (silent && !prompt) return 0;
        char *answer = NULL;
        int rc = pam_prompt(pamh, kinds[i].style, &answer, "%s", line + n);
        if (rc != PAM_SUCCESS) {
            free(answer);
            return prompt ? -1 : 0;
        }
        if (prompt) {
            const char *text = answer ? answer : "";
            /* The answer is a keypress, not a secret; one line, newlines stripped. */
            size_t length = strcspn(text, "\r\n");
            int failed = send_all(fd, text, length) < 0 || send_all(fd, "\n", 1) < 0;
            if (answer) {
                explicit_bzero(answer, strlen(answer));
                free(answer);
            }
            (void)failed; /* the program may have ended already: its exit status decides */
        } else {
            free(answer);
        }
        return 0;
    }
    pam_syslog(pamh, LOG_WARNING, "ignored an unknown message from the program");
    return 0;
}

static void child(int fd, const char *program, char **args, char **env) {
    /* Run fully as root (sudo and su have a real uid of the user): the user cannot signal or
     * trace the process holding the API key. */
    if (geteuid() == 0) {
        if (setresgid(0, 0, 0) != 0 || setgroups(0, NULL) != 0 || setresuid(0, 0, 0) != 0) _exit(3);
    }
    int devnull = open("/dev/null", O_WRONLY);
    if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || devnull < 0 || dup2(devnull, 2) < 0) _exit(3);
    long max_fd = sysconf(_SC_OPEN_MAX);
    if (max_fd < 0 || max_fd > 65536) max_fd = 65536;
    for (int i = 3; i < max_fd; i++) close(i);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Dispositions set to "ignore" survive exec: give the program the defaults back, so that
     * the end of the session (SIGHUP) or a SIGTERM still makes it cancel its challenge. */
    static const int reset[] = {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGCHLD};
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++) signal(reset[i], SIG_DFL);
    execve(program, args, env);
    _exit(3);
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
    const char *program = PUSHAUTH_PAM_PROGRAM;
    char *args[MAX_ARGS + 3];
    int nargs = 0;
    args[nargs++] = (char *)program;
    args[nargs++] = (char *)"auth";
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "program=", 8) == 0) {
            program = argv[i] + 8;
            args[0] = (char *)program;
        } else if (nargs < MAX_ARGS) {
            args[nargs++] = (char *)argv[i];
        }
    }
    args[nargs] = NULL;

    const char *user = NULL;
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL || user[0] == '\0') {
        return PAM_USER_UNKNOWN;
    }
    if (!program_is_safe(pamh, program)) return PAM_SERVICE_ERR;

    char *env[MAX_ENV] = {0};
    int nenv = 0;
    env[nenv++] = strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    env[nenv++] = strdup("PAM_TYPE=auth");
    add_env(env, &nenv, pamh, "PAM_USER", PAM_USER);
    add_env(env, &nenv, pamh, "PAM_SERVICE", PAM_SERVICE);
    add_env(env, &nenv, pamh, "PAM_RHOST", PAM_RHOST);
    add_env(env, &nenv, pamh, "PAM_RUSER", PAM_RUSER);
    add_env(env, &nenv, pamh, "PAM_TTY", PAM_TTY);
    env[nenv] = NULL;

    int result = PAM_SYSTEM_ERR;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        pam_syslog(pamh, LOG_ERR, "socketpair: %s", strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        pam_syslog(pamh, LOG_ERR, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        goto out;
    }
    if (pid == 0) {
        close(fds[0]);
        int fd = dup(fds[1]); /* without SOCK_CLOEXEC */
        child(fd, program, args, env);
    }
    close(fds[1]);

    char buffer[LINE_MAX_BYTES + 1];
    size_t used = 0;
    int discarding = 0; /* inside an over-long line: drop it up to its newline */
    for (;;) {
        ssize_t got = read(fds[0], buffer + used, LINE_MAX_BYTES - used);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        used += (size_t)got;
        char *start = buffer;
        char *newline;
        int failed = 0;
        while ((newline = memchr(start, '\n', used - (size_t)(start - buffer))) != NULL) {
            *newline = '\0';
            if (!discarding && relay(pamh, fds[0], start, flags & PAM_SILENT) < 0) failed = 1;
            discarding = 0;
            start = newline + 1;
            if (failed) break;
        }
        if (failed) {
            /* The user went away: closing the socket tells the program to cancel and stop. */
            shutdown(fds[0], SHUT_RDWR);
            break;
        }
        used -= (size_t)(start - buffer);
        memmove(buffer, start, used);
        if (used == LINE_MAX_BYTES) {
            used = 0;
            discarding = 1;
        }
    }
    close(fds[0]);

    int status = 0;
    pid_t waited;
    do {
        waited = waitpid(pid, &status, 0);
    } while (waited < 0 && errno == EINTR);
    result = waited == pid ? verdict(status) : PAM_SYSTEM_ERR;

out:
    for (int i = 0; i < nenv; i++) {
        free(env[i]);
    }
    return result;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
