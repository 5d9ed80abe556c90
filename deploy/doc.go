// Package deploy holds the working examples of docs/operations.md: the
// systemd units of the release bot and of a mirror, and (in
// .github/workflows) the scheduled site build. Its tests check them with
// the tools that run them: systemd-analyze verify, actionlint, and the
// commands' own flag parsing.
package deploy
