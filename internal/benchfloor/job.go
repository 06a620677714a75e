package benchfloor

import (
	"context"
	"fmt"
)

// Job is one run of the floor as the benchfloor command takes it (JSON on
// standard input): the benchmark runs the floor as a process of its own,
// so that its peak memory is measured as the provider plugin's is.
type Job struct {
	Op          string       `json:"op"` // "rotate" or "refresh"
	Config      Config       `json:"config"`
	Credentials []Credential `json:"credentials"`
}

// Run runs the job.
func (j Job) Run(ctx context.Context) (Result, error) {
	switch j.Op {
	case "rotate":
		return Rotate(ctx, j.Config, j.Credentials)
	case "refresh":
		return Refresh(ctx, j.Config, j.Credentials)
	default:
		err := fmt.Errorf("unknown op %q: want rotate or refresh", j.Op)
		return Result{Op: j.Op, Errors: []string{err.Error()}}, err
	}
}
