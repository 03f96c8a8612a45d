package jingle

import "errors"

var (
	// ErrBadRequest: the element is malformed or breaks a rule of the XEPs; answered
	// with bad-request.
	ErrBadRequest = errors.New("jingle: bad request")
	// ErrTooBig: the element is beyond the limits in limits.go; answered with
	// bad-request too (policy-violation would say more, but XEP-0166 names bad-request).
	ErrTooBig = errors.New("jingle: element too big")
	// ErrSDP: an SDP cannot be expressed in Jingle (or a Jingle description in SDP).
	ErrSDP = errors.New("jingle: cannot translate")
)
