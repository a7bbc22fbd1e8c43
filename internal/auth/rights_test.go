package auth

import (
	"errors"
	"strings"
	"testing"
)

// TestRights: a line without rights reads only (files written before
// rights existed keep their meaning); rights=read,publish adds publishing;
// an unknown right is an error naming it; FormatUser writes what it is
// given and leaves the default unstated.
func TestRights(t *testing.T) {
	plain, err := FormatUser("old", "pw", "r", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain, "rights=") {
		t.Fatalf("read only is the default and should not be written: %s", plain)
	}
	both, err := FormatUser("cam", "pw", "r", []string{"cams/**"}, RightRead, RightPublish)
	if err != nil {
		t.Fatal(err)
	}
	pubOnly := strings.Replace(plain, "old:", "pub:", 1) + ";rights=publish"
	u, err := ParseUsers(strings.NewReader(plain + "\n" + both + "\n" + pubOnly + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user  string
		right Right
		path  string
		ok    bool
	}{
		{"old", RightRead, "a", true},
		{"old", RightPublish, "a", false},
		{"cam", RightRead, "cams/1", true},
		{"cam", RightPublish, "cams/1", true},
		{"cam", RightPublish, "live/1", false},
		{"pub", RightPublish, "x", true},
		{"pub", RightRead, "x", false},
	} {
		rec := u.lookup(tc.user)
		if got := rec.allowed(tc.path) && rec.may(tc.right); got != tc.ok {
			t.Errorf("%s %s %s: %v, want %v", tc.user, tc.right, tc.path, got, tc.ok)
		}
	}
	if _, err := ParseUsers(strings.NewReader(plain + ";rights=read,write\n")); err == nil || !strings.Contains(err.Error(), `"write"`) {
		t.Fatalf("unknown right: %v", err)
	}
	var f *Forbidden
	if !errors.As(error(&Forbidden{User: "a", Path: "p", Right: RightPublish}), &f) || !strings.Contains(f.Error(), "publish") {
		t.Fatal("Forbidden does not say publish")
	}
}
