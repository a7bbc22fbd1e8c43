package extest

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Command is a command line of a Markdown file's code blocks.
type Command struct {
	Section string   // the "## " heading above it
	Line    int      // its line number in the file
	Args    []string // the words of the line; no shell quoting is understood
}

func (c Command) String() string {
	return fmt.Sprintf("line %d (%s): %s", c.Line, c.Section, strings.Join(c.Args, " "))
}

// ReadmeCommands returns the commands of the Markdown file path: the lines
// of its indented code blocks (four spaces, after a blank line) and of its
// ``` fences. A line with quotes, a pipe, a redirection or a comment is an
// error: the commands are run without a shell, word by word.
func ReadmeCommands(path string) ([]Command, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		cmds    []Command
		section string
		inBlock bool // an indented block
		fenced  bool
		blank   = true
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			fenced = !fenced
			continue
		case !fenced && strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		}
		inBlock = !fenced && strings.HasPrefix(line, "    ") && (inBlock || blank)
		blank = trimmed == ""
		if (!inBlock && !fenced) || trimmed == "" {
			continue
		}
		if strings.ContainsAny(trimmed, "'\"`|<>#;&$") {
			return nil, fmt.Errorf("%s:%d: %q needs a shell; write commands that do not", path, n, trimmed)
		}
		cmds = append(cmds, Command{Section: section, Line: n, Args: strings.Fields(trimmed)})
	}
	return cmds, sc.Err()
}
