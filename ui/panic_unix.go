//go:build linux

package ui

import "golang.org/x/sys/unix"

func dupFD(fd int) (int, error) { return unix.Dup(fd) }
func dup2(from, to int) error   { return unix.Dup3(from, to, 0) }
func closeFD(fd int)            { _ = unix.Close(fd) }
