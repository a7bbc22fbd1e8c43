package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/actorstream/actorstream/internal/auth"
)

// passwd adds or replaces a user in a users file:
//
//	server passwd [-realm R] [-paths a,b/**] [-rights read,publish] FILE USER
//
// The password is read from the terminal (twice), or from the first line
// of standard input when that is not a terminal. The file keeps only
// hashes, but Digest hashes are password-equivalent for their realm:
// protect the file like a password.
func passwd(args []string) error {
	fs := flag.NewFlagSet("server passwd", flag.ContinueOnError)
	realm := fs.String("realm", "actorstream", "authentication realm (the server's -realm)")
	paths := fs.String("paths", "", "comma-separated media paths the user may play (patterns; default all)")
	rightsFlag := fs.String("rights", "read", "what the user may do on those paths: read (play), publish (ANNOUNCE/RECORD), or read,publish")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: server passwd [-realm R] [-paths a,b/**] [-rights read,publish] FILE USER")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err // main exits 0: help was asked for
		}
		return flagError{err}
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errors.New("want FILE and USER")
	}
	file, user := fs.Arg(0), fs.Arg(1)
	rights, err := auth.ParseRights(*rightsFlag)
	if err != nil {
		return flagError{fmt.Errorf("-rights: %w", err)}
	}
	if len(rights) == 0 {
		return flagError{errors.New("-rights: empty (want read, publish or read,publish)")}
	}
	pw, err := readPassword()
	if err != nil {
		return err
	}
	var allowed []string
	if *paths != "" {
		allowed = strings.Split(*paths, ",")
	}
	if err := auth.AddUser(file, user, pw, *realm, allowed, rights...); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "user %q saved in %s (realm %q)\n", user, file, *realm)
	return nil
}

func readPassword() (string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprint(os.Stderr, "password: ")
	a, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(os.Stderr, "again: ")
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if string(a) != string(b) {
		return "", errors.New("the passwords differ")
	}
	if len(a) == 0 {
		return "", errors.New("empty password")
	}
	return string(a), nil
}
