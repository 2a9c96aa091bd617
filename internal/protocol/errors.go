package protocol

import (
	"net/http"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
)

// Resolved is an API error looked up in its service's model: the facts every
// protocol's error rendering needs, whatever shape it then writes them in.
type Resolved struct {
	// Shape is the model's exception shape, nil for common errors.
	Shape *awsapi.ErrorShape
	// Name is the exception shape's name, else the error's code as given.
	Name string
	// Code is the query error code (awsQueryError): the shape's, else Name.
	Code string
	// Status is the error's status, else the model's, else 400.
	Status int
	// Receiver marks a server-side fault: the error's or model's say-so, or any
	// 5xx status, which AWS always reports as the receiver's (server's) fault.
	Receiver bool
}

// Resolve looks e up in svc's model (svc may be nil). e.Code is normally the
// exception shape's name; a query error code (AWS.SimpleQueueService.NonExistentQueue)
// is accepted too and mapped back to its shape, so services may return either.
func Resolve(svc *awsapi.Service, e *apierr.Error) Resolved {
	r := Resolved{Name: e.Code, Code: e.Code, Status: e.Status, Receiver: e.Receiver}
	if svc != nil {
		r.Shape = svc.Errors()[e.Code]
		if r.Shape == nil {
			for i := range svc.ErrorList {
				if s := &svc.ErrorList[i]; s.Code == e.Code {
					r.Shape = s
					break
				}
			}
		}
	}
	if s := r.Shape; s != nil {
		r.Name = s.Name
		if s.Code != "" {
			r.Code = s.Code
		}
		if r.Status == 0 {
			r.Status = s.Status
		}
		r.Receiver = r.Receiver || s.Receiver
	}
	if r.Status == 0 {
		r.Status = http.StatusBadRequest
	}
	r.Receiver = r.Receiver || r.Status >= 500
	return r
}

// Fault is the query protocols' name for who is at fault: "Receiver" or "Sender".
func (r Resolved) Fault() string {
	if r.Receiver {
		return "Receiver"
	}
	return "Sender"
}
