//go:build !linux && !nowifi

package telemetry

import (
	"errors"
	"os"

	"github.com/mdlayher/wifi"
)

var unixEOPNOTSUPP = errors.New("operation not supported")

type nl80211 struct{}

func dialNL80211() (*nl80211, error)                       { return nil, os.ErrNotExist }
func (n *nl80211) close()                                  {}
func (n *nl80211) interfaces() ([]nlInterface, error)      { return nil, nil }
func (n *nl80211) stations(int) ([]nlStation, error)       { return nil, nil }
func (n *nl80211) surveys(int) ([]*wifi.SurveyInfo, error) { return nil, nil }
