package ui

import (
	"github.com/ttycall/ttycall/call"
)

// clientEngine adapts *call.Client to Engine (its methods return *call.Session).
type clientEngine struct{ c *call.Client }

// NewEngine adapts a call client for the interface.
func NewEngine(c *call.Client) Engine { return clientEngine{c} }

func (e clientEngine) Events() <-chan call.Event { return e.c.Events() }

func (e clientEngine) CreateNewSession(opp []call.UserID, t call.CallType) (Session, error) {
	s, err := e.c.CreateNewSession(opp, t)
	if err != nil || s == nil {
		return nil, err
	}
	return s, nil
}

func (e clientEngine) Session(id string) Session {
	s := e.c.Session(id)
	if s == nil { // keep a typed nil out of the interface
		return nil
	}
	return s
}

var (
	_ Session = (*call.Session)(nil)
	_ Engine  = clientEngine{}
)
