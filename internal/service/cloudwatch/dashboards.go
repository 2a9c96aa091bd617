package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

// Dashboards belong to the account, not to a region (their ARNs have no
// region: arn:aws:cloudwatch::<account>:dashboard/<name>), and are kept at
//
//	cw/dash/<account>/<name>
//
// wharf stores and returns the body; its web console does not draw them.

// dashboardPageSize is how many entries ListDashboards returns at once
// (ListDashboards docs: "up to 1000 results on one page").
const dashboardPageSize = 1000

var dashboardNameRE = lazyregexp.New(`^[A-Za-z0-9_-]{1,255}$`)

type dashboard struct {
	Name     string    `json:"name"`
	Body     string    `json:"body"`
	Modified time.Time `json:"modified"`
}

func dashboardPrefix(account string) []byte { return []byte("cw/dash/" + account + "/") }

func dashboardKey(account, name string) []byte { return append(dashboardPrefix(account), name...) }

func dashboardARN(account, name string) string {
	return "arn:aws:cloudwatch::" + account + ":dashboard/" + name
}

func invalidDashboard(path, msg string) error {
	return &apierr.Error{Code: "InvalidParameterInput", Status: 400, Message: "The input for the dashboard is invalid",
		Fields: map[string]any{"dashboardValidationMessages": []cwapi.DashboardValidationMessage{
			{DataPath: awsapi.String(path), Message: awsapi.String(msg)}}}}
}

// checkDashboardBody applies the rules every dashboard body must meet
// ("Dashboard Body Structure and Syntax"): a JSON object whose widgets is an
// array of objects, each with a type.
func checkDashboardBody(body string) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return invalidDashboard("", "Should be a JSON object")
	}
	raw, ok := doc["widgets"]
	if !ok {
		return invalidDashboard("", "Should have required property 'widgets'")
	}
	var widgets []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &widgets); err != nil {
		return invalidDashboard("/widgets", "Should be array")
	}
	for i, w := range widgets {
		var typ string
		if json.Unmarshal(w["type"], &typ) != nil || typ == "" {
			return invalidDashboard(fmt.Sprintf("/widgets/%d", i), "Should have required property 'type'")
		}
		switch typ {
		case "metric", "text", "log", "alarm", "explorer", "custom":
		default:
			return invalidDashboard(fmt.Sprintf("/widgets/%d/type", i), "Should be equal to one of the allowed values")
		}
	}
	return nil
}

// PutDashboard creates or replaces a dashboard.
func (s *Service) PutDashboard(ctx context.Context, in *cwapi.PutDashboardInput) (*cwapi.PutDashboardOutput, error) {
	sc := scopeOf(ctx)
	name := awsapi.ToString(in.DashboardName)
	if !dashboardNameRE.MatchString(name) {
		// InvalidParameterValue, as CloudWatch answers over query, JSON
		// and CBOR (its recorded answers), not the model's InvalidParameterInput.
		return nil, invalidValue("The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).")
	}
	body := awsapi.ToString(in.DashboardBody)
	if err := checkDashboardBody(body); err != nil {
		return nil, err
	}
	d := dashboard{Name: name, Body: body, Modified: s.clock.Now().UTC().Truncate(time.Second)}
	err := s.st.Update(func(tx store.Tx) error {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return tx.Put(dashboardKey(sc.account, name), b)
	})
	if err != nil {
		return nil, err
	}
	return &cwapi.PutDashboardOutput{DashboardValidationMessages: []cwapi.DashboardValidationMessage{}}, nil
}

func dashboardNotFound() error {
	return cwapi.ErrResourceNotFound("Dashboard does not exist")
}

// GetDashboard returns a dashboard's body.
func (s *Service) GetDashboard(ctx context.Context, in *cwapi.GetDashboardInput) (*cwapi.GetDashboardOutput, error) {
	sc := scopeOf(ctx)
	name := awsapi.ToString(in.DashboardName)
	var d dashboard
	err := s.st.View(func(tx store.Tx) error {
		b, err := tx.Get(dashboardKey(sc.account, name))
		if err != nil {
			return err
		}
		if b == nil || name == "" {
			return dashboardNotFound()
		}
		return json.Unmarshal(b, &d)
	})
	if err != nil {
		return nil, err
	}
	return &cwapi.GetDashboardOutput{DashboardArn: awsapi.String(dashboardARN(sc.account, d.Name)),
		DashboardBody: awsapi.String(d.Body), DashboardName: awsapi.String(d.Name)}, nil
}

// ListDashboards lists dashboards by name, optionally under a name prefix.
func (s *Service) ListDashboards(ctx context.Context, in *cwapi.ListDashboardsInput) (*cwapi.ListDashboardsOutput, error) {
	sc := scopeOf(ctx)
	prefix := append(dashboardPrefix(sc.account), awsapi.ToString(in.DashboardNamePrefix)...)
	var start []byte
	if t := awsapi.ToString(in.NextToken); t != "" {
		start = append(dashboardPrefix(sc.account), t...)
	}
	out := &cwapi.ListDashboardsOutput{DashboardEntries: []cwapi.DashboardEntry{}}
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, start, func(_, v []byte) (bool, error) {
			var d dashboard
			if err := json.Unmarshal(v, &d); err != nil {
				return false, err
			}
			if len(out.DashboardEntries) == dashboardPageSize {
				out.NextToken = awsapi.String(d.Name)
				return false, nil
			}
			mod := d.Modified
			out.DashboardEntries = append(out.DashboardEntries, cwapi.DashboardEntry{
				DashboardName: awsapi.String(d.Name), DashboardArn: awsapi.String(dashboardARN(sc.account, d.Name)),
				LastModified: &mod, Size: awsapi.Int64(int64(len(d.Body)))})
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteDashboards deletes the named dashboards; if one does not exist,
// none is deleted (DeleteDashboards docs).
func (s *Service) DeleteDashboards(ctx context.Context, in *cwapi.DeleteDashboardsInput) (*cwapi.DeleteDashboardsOutput, error) {
	sc := scopeOf(ctx)
	if len(in.DashboardNames) == 0 {
		return nil, missingParam("The parameter DashboardNames is required.")
	}
	err := s.st.Update(func(tx store.Tx) error {
		for _, n := range in.DashboardNames {
			b, err := tx.Get(dashboardKey(sc.account, n))
			if err != nil {
				return err
			}
			if b == nil || n == "" {
				return cwapi.ErrResourceNotFound("Dashboard %s does not exist", n)
			}
		}
		for _, n := range in.DashboardNames {
			if err := tx.Delete(dashboardKey(sc.account, n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cwapi.DeleteDashboardsOutput{}, nil
}
