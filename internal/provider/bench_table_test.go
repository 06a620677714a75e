package provider

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/benchfloor"
)

// The benchmark's table: one row per figure, the provider against the
// floor, the median over rounds of each side, and their ratio.

// benchPart is one part of a side of a row: a value per round.
type benchPart struct {
	label string
	value func(benchRound) float64
}

// benchRow is one figure. The floor side may be the sum of parts (the SDK
// floor and terraform_data), shown each with its median.
type benchRow struct {
	figure   string
	format   string // of the values, e.g. "%.1f"
	provider func(benchRound) float64
	floor    []benchPart
}

// reportBench writes the table (to the report file, or standard output)
// and reports the main figures as the benchmark's metrics.
func reportBench(b *testing.B, o benchOptions, rounds []benchRound) {
	b.Helper()
	rows := benchRows(o.n, rounds)
	var sb strings.Builder
	writeBenchTable(&sb, o, rounds, rows)
	if o.reportFile != "" {
		if err := os.WriteFile(o.reportFile, []byte(sb.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	} else {
		fmt.Print("\n" + sb.String())
	}
	// benchRows starts with the apply and the plan.
	for i, name := range []string{"apply", "plan"} {
		p, f := rows[i].medians(rounds)
		b.ReportMetric(p, name+"-s")
		b.ReportMetric(f, "floor-"+name+"-s")
		if f > 0 {
			b.ReportMetric(p/f, name+"-ratio")
		}
	}
	med := func(v func(benchRound) float64) float64 { return median(rounds, v) }
	for _, ph := range []struct{ name, phase string }{{"apply", phaseProviderApply}, {"plan", phaseProviderPlan}} {
		for _, c := range cpuFigures {
			b.ReportMetric(med(cpuSeconds(ph.phase, c.of)), c.metric+"-"+ph.name+"-cpu-s")
		}
	}
	b.ReportMetric(med(func(r benchRound) float64 { return mib(r.phases[phaseProviderApply].peakRSS) }), "plugin-apply-MiB")
	b.ReportMetric(med(func(r benchRound) float64 { return mib(r.phases[phaseProviderPlan].peakRSS) }), "plugin-plan-MiB")
	b.ReportMetric(med(perCredential(o.n, phaseProviderApply, func(p benchPhase) int { return p.mongo.Logins })), "logins/rotation")
	b.ReportMetric(med(perCredential(o.n, phaseProviderApply, kvTotal)), "kv-requests/rotation")
	b.ReportMetric(float64(o.n), "credentials")
}

// benchRows lists the figures; the Key Vault and MongoDB command rows are
// one per kind either side used.
func benchRows(n int, rounds []benchRound) []benchRow {
	seconds := func(phase string) func(benchRound) float64 {
		return func(r benchRound) float64 { return r.phases[phase].elapsed.Seconds() }
	}
	rss := func(phase string) func(benchRound) float64 {
		return func(r benchRound) float64 { return mib(r.phases[phase].peakRSS) }
	}
	// What the work adds to the base process, per credential.
	rssPer := func(phase string) func(benchRound) float64 {
		return func(r benchRound) float64 {
			p := r.phases[phase]
			return float64(p.peakRSS-p.baseRSS) / 1024 / float64(n)
		}
	}
	mongo := func(phase string, f func(benchfloor.Counts) int) func(benchRound) float64 {
		return func(r benchRound) float64 { return float64(f(r.phases[phase].mongo)) }
	}
	logins := func(p benchPhase) int { return p.mongo.Logins }
	opened := func(p benchPhase) int { return p.mongo.Connections }
	maxConns := func(c benchfloor.Counts) int { return c.MaxConcurrent }
	one := func(v func(benchRound) float64) []benchPart { return []benchPart{{"", v}} }
	rows := []benchRow{
		{"apply (s)", "%.1f", seconds(phaseProviderApply),
			[]benchPart{{"sdk", seconds(phaseFloorRotate)}, {"terraform_data", seconds(phaseDataApply)}}},
		{"plan after apply (s)", "%.1f", seconds(phaseProviderPlan),
			[]benchPart{{"sdk", seconds(phaseFloorRefresh)}, {"terraform_data", seconds(phaseDataPlan)}}},
	}
	for _, side := range []struct{ what, provider, sdk, data string }{
		{"apply", phaseProviderApply, phaseFloorRotate, phaseDataApply},
		{"plan", phaseProviderPlan, phaseFloorRefresh, phaseDataPlan},
	} {
		fig := "CPU, " + side.what + " (s): "
		var all, sdk func(benchPhase) time.Duration
		for _, c := range cpuFigures {
			floor := side.sdk
			if c.core {
				floor = side.data
			} else {
				sdk = sumCPU(sdk, c.of)
			}
			all = sumCPU(all, c.of)
			rows = append(rows, benchRow{fig + c.row, "%.2f", cpuSeconds(side.provider, c.of), one(cpuSeconds(floor, c.of))})
		}
		rows = append(rows, benchRow{fig + "total", "%.2f", cpuSeconds(side.provider, all),
			[]benchPart{{"sdk", cpuSeconds(side.sdk, sdk)}, {"terraform_data", cpuSeconds(side.data, cpuFigures[0].of)}}})
	}
	rows = append(rows, []benchRow{
		{"peak RSS during apply (MiB; plugin vs sdk process)", "%.0f", rss(phaseProviderApply), one(rss(phaseFloorRotate))},
		{"peak RSS during plan (MiB; plugin vs sdk process)", "%.0f", rss(phaseProviderPlan), one(rss(phaseFloorRefresh))},
		{"(peak - base) RSS per credential, apply (KiB)", "%.0f", rssPer(phaseProviderApply), one(rssPer(phaseFloorRotate))},
		{"(peak - base) RSS per credential, plan (KiB)", "%.0f", rssPer(phaseProviderPlan), one(rssPer(phaseFloorRefresh))},
		{"state file per credential (bytes)", "%.0f",
			func(r benchRound) float64 { return float64(r.providerState) / float64(n) },
			one(func(r benchRound) float64 { return float64(r.dataState) / float64(n) })},
		{"MongoDB logins per rotation", "%.2f", perCredential(n, phaseProviderApply, logins), one(perCredential(n, phaseFloorRotate, logins))},
		{"MongoDB logins per refresh", "%.2f", perCredential(n, phaseProviderPlan, logins), one(perCredential(n, phaseFloorRefresh, logins))},
		{"MongoDB connections opened per rotation", "%.2f", perCredential(n, phaseProviderApply, opened), one(perCredential(n, phaseFloorRotate, opened))},
		{"MongoDB connections opened per refresh", "%.2f", perCredential(n, phaseProviderPlan, opened), one(perCredential(n, phaseFloorRefresh, opened))},
		{"max simultaneous MongoDB connections, apply", "%.0f", mongo(phaseProviderApply, maxConns), one(mongo(phaseFloorRotate, maxConns))},
		{"max simultaneous MongoDB connections, plan", "%.0f", mongo(phaseProviderPlan, maxConns), one(mongo(phaseFloorRefresh, maxConns))},
	}...)
	for _, side := range []struct{ what, provider, floor string }{
		{"rotation", phaseProviderApply, phaseFloorRotate},
		{"refresh", phaseProviderPlan, phaseFloorRefresh},
	} {
		rows = append(rows, benchRow{"Key Vault requests per " + side.what, "%.2f",
			perCredential(n, side.provider, kvTotal), one(perCredential(n, side.floor, kvTotal))})
		for _, kind := range kinds(rounds, func(p benchPhase) map[string]int { return p.kv }, side.provider, side.floor) {
			count := func(p benchPhase) int { return p.kv[kind] }
			rows = append(rows, benchRow{"  " + kind, "%.2f", perCredential(n, side.provider, count), one(perCredential(n, side.floor, count))})
		}
	}
	for _, side := range []struct{ what, provider, floor string }{
		{"rotation", phaseProviderApply, phaseFloorRotate},
		{"refresh", phaseProviderPlan, phaseFloorRefresh},
	} {
		total := func(p benchPhase) int { return sum(p.mongo.Commands) }
		rows = append(rows, benchRow{"MongoDB commands per " + side.what, "%.2f",
			perCredential(n, side.provider, total), one(perCredential(n, side.floor, total))})
		for _, kind := range kinds(rounds, func(p benchPhase) map[string]int { return p.mongo.Commands }, side.provider, side.floor) {
			count := func(p benchPhase) int { return p.mongo.Commands[kind] }
			rows = append(rows, benchRow{"  " + kind, "%.2f", perCredential(n, side.provider, count), one(perCredential(n, side.floor, count))})
		}
	}
	return rows
}

// cpuFigures are the CPU rows and metrics, per process. The floor's core
// is terraform_data's; the others are the sdk floor's phase.
var cpuFigures = []struct {
	row, metric string
	core        bool
	of          func(benchPhase) time.Duration
}{
	{"terraform core", "core", true, func(p benchPhase) time.Duration { return p.coreCPU }},
	{"plugin / sdk process", "plugin", false, func(p benchPhase) time.Duration { return p.pluginCPU }},
	{"FerretDB", "ferretdb", false, func(p benchPhase) time.Duration { return p.ferretCPU }},
	{"Key Vault emulator + proxy (test process)", "testproc", false, func(p benchPhase) time.Duration { return p.testCPU }},
}

// sumCPU is a CPU time that adds of to sum (nil: none yet).
func sumCPU(sum, of func(benchPhase) time.Duration) func(benchPhase) time.Duration {
	if sum == nil {
		return of
	}
	return func(p benchPhase) time.Duration { return sum(p) + of(p) }
}

// cpuSeconds is a CPU time of a phase, in seconds.
func cpuSeconds(phase string, cpu func(benchPhase) time.Duration) func(benchRound) float64 {
	return func(r benchRound) float64 { return cpu(r.phases[phase]).Seconds() }
}

// perCredential is a count of a phase divided by the credentials.
func perCredential(n int, phase string, count func(benchPhase) int) func(benchRound) float64 {
	return func(r benchRound) float64 { return float64(count(r.phases[phase])) / float64(n) }
}

func kvTotal(p benchPhase) int { return sum(p.kv) }

func sum(m map[string]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}

// kinds lists the keys any round's phases counted, most frequent first.
func kinds(rounds []benchRound, counts func(benchPhase) map[string]int, phases ...string) []string {
	total := map[string]int{}
	for _, r := range rounds {
		for _, ph := range phases {
			for k, v := range counts(r.phases[ph]) {
				total[k] += v
			}
		}
	}
	keys := slices.Collect(maps.Keys(total))
	sort.Slice(keys, func(i, j int) bool {
		if total[keys[i]] != total[keys[j]] {
			return total[keys[i]] > total[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// medians returns the median of the provider side and of the floor side
// (the median of the parts' per-round sum).
func (row benchRow) medians(rounds []benchRound) (provider, floor float64) {
	return median(rounds, row.provider), median(rounds, func(r benchRound) float64 {
		t := 0.0
		for _, p := range row.floor {
			t += p.value(r)
		}
		return t
	})
}

func median(rounds []benchRound, v func(benchRound) float64) float64 {
	if len(rounds) == 0 {
		return 0
	}
	vals := make([]float64, len(rounds))
	for i, r := range rounds {
		vals[i] = v(r)
	}
	sort.Float64s(vals)
	if len(vals)%2 == 1 {
		return vals[len(vals)/2]
	}
	return (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
}

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// cells returns the row's three value cells.
func (row benchRow) cells(rounds []benchRound) (provider, floor, ratio string) {
	p, f := row.medians(rounds)
	provider, floor = fmt.Sprintf(row.format, p), fmt.Sprintf(row.format, f)
	if len(row.floor) > 1 {
		parts := make([]string, len(row.floor))
		for i, part := range row.floor {
			parts[i] = fmt.Sprintf(row.format+" %s", median(rounds, part.value), part.label)
		}
		floor += " (" + strings.Join(parts, " + ") + ")"
	}
	switch {
	case f > 0:
		ratio = fmt.Sprintf("%.1fx", p/f)
	case p > 0:
		ratio = "-" // the floor needs none
	}
	return provider, floor, ratio
}

func writeBenchTable(sb *strings.Builder, o benchOptions, rounds []benchRound, rows []benchRow) {
	roundsNote := "1 round"
	if len(rounds) > 1 {
		roundsNote = fmt.Sprintf("%d interleaved rounds, medians", len(rounds))
	}
	fmt.Fprintf(sb, "BenchmarkApplyRotations, %s: %d credentials (%d resources), %s, %s, parallelism %d\n",
		time.Now().Format("2006-01-02 15:04:05 MST"), o.n, 3*o.n+4, roundsNote, testAccCLI(), benchfloor.DefaultParallelism)
	table := [][]string{{"figure", "provider", "floor (sdk + terraform_data)", "ratio"}}
	for _, row := range rows {
		p, f, r := row.cells(rounds)
		table = append(table, []string{row.figure, p, f, r})
	}
	widths := make([]int, 4)
	for _, line := range table {
		for i, c := range line {
			widths[i] = max(widths[i], len(c))
		}
	}
	for i, line := range table {
		for j, c := range line {
			if j == 0 {
				fmt.Fprintf(sb, "| %-*s ", widths[j], c)
			} else {
				fmt.Fprintf(sb, "| %*s ", widths[j], c)
			}
		}
		sb.WriteString("|\n")
		if i == 0 {
			for _, w := range widths {
				sb.WriteString("|" + strings.Repeat("-", w+2))
			}
			sb.WriteString("|\n")
		}
	}
	sb.WriteString(`apply: the provider's terraform apply (3N+4 resources, N rotations) against the sdk floor's rotation
  (per credential: GetSecret, login + updateUser, SetSecret, login with the new password, GetSecret)
  plus terraform apply of the same graph of terraform_data; plan: the plan after the apply against
  terraform plan of terraform_data plus the sdk floor's refresh (per credential: GetSecret, login).
  ratio = provider / floor. Counts are per credential; a login is one SCRAM conversation.
  Peak RSS: the largest of the plugin processes terraform started for the command (sampled
  every 50 ms), against the floor process; base: the smallest of them (it only served the
  schema), against the floor process before its job. State: the terraform_data state for the floor.
  CPU: processor time (user + system) during the command, per process. terraform core: the
  terraform process itself, against terraform_data's apply or plan (which starts no plugin):
  what wait4 reports for terraform and the children it waited for, less the children's. plugin:
  those children, the plugin processes terraform started, summed (terraform's cutime + cstime,
  read from /proc as it exits, before it is reaped), against the sdk floor process (wait4).
  FerretDB: the server process, from /proc before and after. test process: the benchmark's own
  process (getrusage), which hosts the Key Vault emulator and the MongoDB counting proxy, and
  also reads the commands' output and runs the Go test harness; less its sampling of the
  plugins' /proc every 50 ms (about 20 ms a second, measured on the sampler's thread). The
  floor's FerretDB and test-process figures are those of the sdk floor's rotation or refresh;
  total: the four above, the floor's being the sdk phase's three plus terraform_data's core.
  CPU above wall time means more than one core busy; /proc counts in ticks of 10 ms.
`)
	writeFloorSteps(sb, o.n, rounds)
	if len(rounds) > 1 {
		for _, ph := range []string{phaseProviderApply, phaseProviderPlan, phaseFloorRotate, phaseFloorRefresh, phaseDataApply, phaseDataPlan} {
			vals := make([]string, len(rounds))
			for i, r := range rounds {
				vals[i] = fmt.Sprintf("%.1f", r.phases[ph].elapsed.Seconds())
			}
			fmt.Fprintf(sb, "  %-21s per round (s): %s\n", ph, strings.Join(vals, " "))
		}
	}
	if o.profileDir != "" {
		writeProfileNote(sb, o.profileDir)
	}
}

// writeFloorSteps says where the sdk floor's time goes: each step's mean
// time per credential, in the last round.
func writeFloorSteps(sb *strings.Builder, n int, rounds []benchRound) {
	last := rounds[len(rounds)-1]
	for _, ph := range []string{phaseFloorRotate, phaseFloorRefresh} {
		steps := last.phases[ph].steps
		var parts []string
		for _, step := range []string{benchfloor.StepReadSecret, benchfloor.StepUpdateUser, benchfloor.StepSetSecret,
			benchfloor.StepVerify, benchfloor.StepReadBack, benchfloor.StepLogin} {
			if d, ok := steps[step]; ok {
				parts = append(parts, fmt.Sprintf("%s %.0f", step, float64(d.Microseconds())/1000/float64(n)))
			}
		}
		fmt.Fprintf(sb, "  %s, ms per credential by step: %s\n", ph, strings.Join(parts, ", "))
	}
}

// writeProfileNote says where the plugin's profiles are (profile.go names
// them) and how to read them.
func writeProfileNote(sb *strings.Builder, dir string) {
	fmt.Fprintf(sb, "plugin profiles, one set per plugin process, in %[1]s/apply and %[1]s/plan; e.g.\n", dir)
	fmt.Fprintf(sb, "  go tool pprof -top %s/apply/cpu-*.pprof\n", dir)
	if peak, _ := filepath.Glob(filepath.Join(dir, "apply", "heap-peak-*.pprof")); len(peak) > 0 {
		fmt.Fprintf(sb, "  go tool pprof -top -sample_index=inuse_space %s/apply/heap-peak-*.pprof   # the heap at its largest\n", dir)
	}
	fmt.Fprintf(sb, "  go tool pprof -top -sample_index=inuse_space %s/apply/heap-[0-9]*.pprof   # in use when the plugin stopped\n", dir)
	fmt.Fprintf(sb, "  go tool pprof -top -sample_index=alloc_space %s/apply/heap-[0-9]*.pprof   # every allocation\n", dir)
}
