package auth

import (
	"bufio"
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// DefaultIterations is the PBKDF2-HMAC-SHA256 iteration count FormatUser
// uses. It is below OWASP's 600,000 on purpose: the same line holds the
// Digest HA1 (one MD5 or SHA-256 of the password), which is far cheaper to
// attack offline, so more iterations would not protect a stolen file, only
// slow down every Basic login (about 0.1 s at 100,000 on a small server).
const DefaultIterations = 100_000

// iterations is what FormatUser uses; tests lower it.
var iterations = DefaultIterations

const (
	saltLen    = 16
	keyLen     = 32
	maxIter    = 10_000_000
	schemeName = "digest"
)

// Users is a set of users loaded from a users file. It is read-only once
// loaded and safe for concurrent use; to reload, load a new one and swap
// it in.
type Users struct {
	byName map[string]*userRecord
}

type userRecord struct {
	name      string
	realm     string
	md5HA1    string // lower-case hex, "" if absent
	sha256HA1 string
	salt, key []byte // PBKDF2-HMAC-SHA256; nil if absent
	iter      int
	paths     []string // nil: every path
	rights    []Right  // nil: read only
}

// Right is what a user may do on the paths it is allowed: read (play,
// the default) or publish (ANNOUNCE/RECORD a stream into the server).
type Right string

const (
	RightRead    Right = "read"
	RightPublish Right = "publish"
)

// ParseRights reads a comma-separated list of rights ("read,publish").
func ParseRights(v string) ([]Right, error) {
	var out []Right
	for _, r := range strings.Split(v, ",") {
		switch r := Right(strings.TrimSpace(r)); r {
		case "":
		case RightRead, RightPublish:
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		default:
			return nil, fmt.Errorf("unknown right %q (want read, publish)", r)
		}
	}
	if out == nil {
		out = []Right{} // "rights=" grants nothing
	}
	return out, nil
}

// Len reports the number of users.
func (u *Users) Len() int {
	if u == nil {
		return 0
	}
	return len(u.byName)
}

// Names returns the user names, sorted.
func (u *Users) Names() []string {
	if u == nil {
		return nil
	}
	names := make([]string, 0, len(u.byName))
	for n := range u.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (u *Users) lookup(name string) *userRecord {
	if u == nil {
		return nil
	}
	return u.byName[name]
}

// Allowed reports whether the user name may access the media path p, as
// Authenticator.Check decides it for an authenticated user (a list of
// what to show someone, such as an index page, filtered by it).
func (u *Users) Allowed(name, p string) bool {
	rec := u.lookup(name)
	return rec != nil && rec.allowed(p)
}

// LoadUsers reads a users file (see the package comment for its format).
func LoadUsers(filename string) (*Users, error) {
	f, err := os.Open(filename)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	u, err := ParseUsers(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	return u, nil
}

// ParseUsers reads users in the users file format from r.
func ParseUsers(r io.Reader) (*Users, error) {
	u := &Users{byName: map[string]*userRecord{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		rec, err := parseUserLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if _, dup := u.byName[rec.name]; dup {
			return nil, fmt.Errorf("line %d: duplicate user %q", n, rec.name)
		}
		u.byName[rec.name] = rec
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return u, nil
}

func parseUserLine(line string) (*userRecord, error) {
	fields := strings.SplitN(line, ":", 3)
	if len(fields) != 3 {
		return nil, errors.New("want name:scheme:params")
	}
	rec := &userRecord{name: fields[0]}
	if err := validName(rec.name); err != nil {
		return nil, err
	}
	if fields[1] != schemeName {
		return nil, fmt.Errorf("user %q: unknown scheme %q", rec.name, fields[1])
	}
	seen := map[string]bool{}
	for _, p := range strings.Split(fields[2], ";") {
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("user %q: parameter %q has no '='", rec.name, p)
		}
		if seen[k] {
			return nil, fmt.Errorf("user %q: duplicate parameter %q", rec.name, k)
		}
		seen[k] = true
		var err error
		switch k {
		case "realm":
			rec.realm = v
		case "md5":
			rec.md5HA1, err = parseHex(v, 16)
		case "sha256":
			rec.sha256HA1, err = parseHex(v, 32)
		case "pbkdf2":
			rec.salt, rec.key, rec.iter, err = parsePBKDF2(v)
		case "paths":
			rec.paths, err = parsePaths(v)
		case "rights":
			rec.rights, err = ParseRights(v)
		default:
			err = fmt.Errorf("unknown parameter %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("user %q: %s: %w", rec.name, k, err)
		}
	}
	if rec.key == nil && rec.md5HA1 == "" && rec.sha256HA1 == "" {
		return nil, fmt.Errorf("user %q: no credentials", rec.name)
	}
	if (rec.md5HA1 != "" || rec.sha256HA1 != "") && rec.realm == "" {
		return nil, fmt.Errorf("user %q: digest hashes without realm", rec.name)
	}
	return rec, nil
}

func parseHex(v string, n int) (string, error) {
	if len(v) != 2*n {
		return "", fmt.Errorf("want %d hex digits", 2*n)
	}
	for i := 0; i < len(v); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(v[i])) {
			return "", errors.New("not hex")
		}
	}
	return strings.ToLower(v), nil
}

func parsePBKDF2(v string) (salt, key []byte, iter int, err error) {
	parts := strings.Split(v, "$")
	if len(parts) != 4 || parts[0] != "sha256" {
		return nil, nil, 0, errors.New("want sha256$iterations$salt$key")
	}
	iter, err = strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > maxIter {
		return nil, nil, 0, errors.New("bad iteration count")
	}
	salt, err = base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil || len(salt) < 8 {
		return nil, nil, 0, errors.New("bad salt")
	}
	key, err = base64.RawStdEncoding.DecodeString(parts[3])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return nil, nil, 0, errors.New("bad key")
	}
	return salt, key, iter, nil
}

func parsePaths(v string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if err := validPattern(p); err != nil {
			return nil, err
		}
		out = append(out, strings.TrimPrefix(p, "/"))
	}
	if out == nil {
		out = []string{} // "paths=" grants nothing
	}
	return out, nil
}

func validName(name string) error {
	if name == "" {
		return errors.New("empty user name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < ' ' || c == 0x7f || c == ':' || c == '#' && i == 0 {
			return fmt.Errorf("user name %q: bad character %q", name, c)
		}
	}
	if strings.TrimSpace(name) != name {
		return fmt.Errorf("user name %q: leading or trailing space", name)
	}
	return nil
}

func validRealm(realm string) error {
	if realm == "" {
		return errors.New("empty realm")
	}
	for i := 0; i < len(realm); i++ {
		if c := realm[i]; c < ' ' || c == 0x7f || c == ';' {
			return fmt.Errorf("realm %q: bad character %q", realm, c)
		}
	}
	return nil
}

func validPattern(p string) error {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == 0x7f || c == ',' || c == ';' {
			return fmt.Errorf("path pattern %q: bad character %q", p, c)
		}
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("path pattern %q: %w", p, err)
	}
	return nil
}

// FormatUser returns a users file line (without newline) for name with
// password in realm, allowed on paths (nil: all paths) with rights (none
// given: read only, which the line then does not state). It hashes the
// password with PBKDF2 (DefaultIterations), which takes a noticeable
// fraction of a second.
func FormatUser(name, password, realm string, paths []string, rights ...Right) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	if err := validRealm(realm); err != nil {
		return "", err
	}
	if password == "" {
		return "", errors.New("empty password")
	}
	for _, p := range paths {
		if err := validPattern(p); err != nil {
			return "", err
		}
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, keyLen)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%s:realm=%s;md5=%s;sha256=%s;pbkdf2=sha256$%d$%s$%s",
		name, schemeName, realm,
		algMD5.ha1(name, realm, password), algSHA256.ha1(name, realm, password),
		iterations, base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	if paths != nil {
		b.WriteString(";paths=")
		b.WriteString(strings.Join(paths, ","))
	}
	if len(rights) > 0 && !(len(rights) == 1 && rights[0] == RightRead) {
		rs := make([]string, len(rights))
		for i, r := range rights {
			rs[i] = string(r)
		}
		b.WriteString(";rights=")
		b.WriteString(strings.Join(rs, ","))
	}
	return b.String(), nil
}

// AddUser adds name to the users file at filename, or replaces its line if
// the user exists, keeping the other lines (and comments) as they are. The
// file is created if missing, and always written with mode 0600 (it holds
// password-equivalent hashes), by renaming a temporary file over it.
func AddUser(filename, name, password, realm string, paths []string, rights ...Right) error {
	line, err := FormatUser(name, password, realm, paths, rights...)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(filename)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var out bytes.Buffer
	replaced := false
	for _, l := range strings.SplitAfter(string(old), "\n") {
		if l == "" {
			continue
		}
		if n, _, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && n == name && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			if !replaced {
				out.WriteString(line + "\n")
				replaced = true
			}
			continue
		}
		out.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			out.WriteByte('\n')
		}
	}
	if !replaced {
		out.WriteString(line + "\n")
	}
	if _, err := ParseUsers(bytes.NewReader(out.Bytes())); err != nil {
		return fmt.Errorf("%s: %w", filename, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(filename), "."+filepath.Base(filename)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(out.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filename)
}

// pbkdf2Slots limits concurrent PBKDF2 computations to half the CPUs.
var pbkdf2Slots = make(chan struct{}, max(1, runtime.NumCPU()/2))

// verifyPassword checks password against the record's PBKDF2 hash.
func (r *userRecord) verifyPassword(password string) bool {
	if r.key == nil {
		return false
	}
	pbkdf2Slots <- struct{}{} // bound the CPU that failed logins can burn
	got, err := pbkdf2.Key(sha256.New, password, r.salt, r.iter, len(r.key))
	<-pbkdf2Slots
	return err == nil && subtle.ConstantTimeCompare(got, r.key) == 1
}

// may reports whether the user has right (nil rights: read only).
func (r *userRecord) may(right Right) bool {
	if r.rights == nil {
		return right == RightRead
	}
	return slices.Contains(r.rights, right)
}

// allowed reports whether the user may access p; "" (no particular
// media, e.g. OPTIONS *) is always allowed.
func (r *userRecord) allowed(p string) bool {
	if r.paths == nil || p == "" {
		return true
	}
	p = strings.TrimPrefix(p, "/")
	for _, pat := range r.paths {
		if matchPath(pat, p) {
			return true
		}
	}
	return false
}

// matchPath is path.Match, plus "**" (everything) and "dir/**" (dir and
// everything below it).
func matchPath(pat, p string) bool {
	if pat == "**" {
		return true
	}
	if dir, ok := strings.CutSuffix(pat, "/**"); ok {
		if ok, _ := path.Match(dir, p); ok {
			return true
		}
		for i := 0; i < len(p); i++ {
			if p[i] == '/' {
				if ok, _ := path.Match(dir, p[:i]); ok {
					return true
				}
			}
		}
		return false
	}
	ok, _ := path.Match(pat, p)
	return ok
}
