// Package examples holds the test that runs the commands of
// examples/README.md as written (readme_test.go); the examples themselves
// are the commands in the directories below.
package examples
