/* sigs.c - SIGTERM/SIGINT through a signalfd. */
#include "sigs.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void term_set(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGINT);
}

int sigs_open(void)
{
	sigset_t s;

	term_set(&s);
	if (sigprocmask(SIG_BLOCK, &s, NULL))
		return -1;
	return signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
}

int sigs_take(int fd)
{
	struct signalfd_siginfo si;
	int sig = 0;

	if (fd >= 0 && read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		sig = (int)si.ssi_signo;
	return sig;
}
