//go:build !linux

package ui

import "errors"

var errNoRedirect = errors.New("standard error redirection is implemented on Linux only")

func dupFD(int) (int, error) { return -1, errNoRedirect }
func dup2(int, int) error    { return errNoRedirect }
func closeFD(int)            {}
