// Command task is the program inside wharf's test images: built static
// (CGO_ENABLED=0) and imported into the engine FROM scratch, so tests need no
// registry. Its first argument picks what it does:
//
//	exit N        print a line on stdout and one on stderr, exit with N
//	sleep         run until SIGTERM, then print "terminated" and exit 0
//	ignore-term   run until killed (SIGTERM is ignored)
//	sdk QUEUE     with the SDK's default configuration (no wharf-specific code):
//	              print sts GetCallerIdentity's ARN and send it to the SQS queue
//	              named QUEUE; exit 0 on success
//	metadata      print the task metadata document ($ECS_CONTAINER_METADATA_URI_V4/task)
//	burn MiB [P]  hold MiB mebibytes of touched memory and keep one CPU busy
//	              P percent of the time (default 100) until SIGTERM
//	taskstats     keep one CPU busy while reading $ECS_CONTAINER_METADATA_URI_V4/task/stats
//	              twice; print its own container's CPU and memory figures;
//	              exit 1 unless they show the work
//	env           print the environment
//	lines N       print N numbered lines on stdout and N on stderr, then exit 3
//	              at once (what a fast-failing program leaves to its log driver)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: task exit N | sleep | ignore-term | sdk QUEUE | metadata | env")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "exit":
		code, _ := strconv.Atoi(arg(2))
		fmt.Println("exiting with", code)
		fmt.Fprintln(os.Stderr, "this is stderr")
		os.Exit(code)
	case "sleep":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		fmt.Println("sleeping")
		<-ch
		fmt.Println("terminated")
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ignoring SIGTERM")
		time.Sleep(time.Hour)
	case "sdk":
		if err := useSDK(arg(2)); err != nil {
			fmt.Fprintln(os.Stderr, "sdk:", err)
			os.Exit(1)
		}
	case "metadata":
		resp, err := http.Get(os.Getenv("ECS_CONTAINER_METADATA_URI_V4") + "/task")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.Copy(os.Stdout, resp.Body)
		fmt.Println()
	case "burn":
		mib, _ := strconv.Atoi(arg(2))
		duty, err := strconv.Atoi(arg(3))
		if err != nil {
			duty = 100
		}
		held := touch(mib)
		go spin(duty)
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		fmt.Println("burning with", len(held)>>20, "MiB held")
		<-ch
		fmt.Println("terminated", len(held))
	case "taskstats":
		if err := taskStats(); err != nil {
			fmt.Fprintln(os.Stderr, "taskstats:", err)
			os.Exit(1)
		}
	case "lines":
		n, _ := strconv.Atoi(arg(2))
		for i := 1; i <= n; i++ {
			fmt.Fprintf(os.Stdout, "out %d\n", i)
			fmt.Fprintf(os.Stderr, "err %d\n", i)
		}
		os.Exit(3)
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

func arg(i int) string {
	if i < len(os.Args) {
		return os.Args[i]
	}
	return ""
}

func useSDK(queue string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("GetCallerIdentity: %w", err)
	}
	fmt.Println("identity", *id.Arn)
	q := sqs.NewFromConfig(cfg)
	url, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &queue})
	if err != nil {
		return fmt.Errorf("GetQueueUrl: %w", err)
	}
	_, err = q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: id.Arn})
	if err != nil {
		return fmt.Errorf("SendMessage: %w", err)
	}
	return nil
}

// touch returns mib mebibytes with every page written, so they are resident.
func touch(mib int) []byte {
	b := make([]byte, mib<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

// spin keeps one CPU busy duty percent of each 20 ms, for ever.
func spin(duty int) {
	const slice = 20 * time.Millisecond
	busy := slice * time.Duration(min(max(duty, 1), 100)) / 100
	x := uint64(1)
	for {
		end := time.Now().Add(busy)
		for time.Now().Before(end) {
			for range 1000 {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		if x == 0 {
			fmt.Println(x)
		}
		if busy < slice {
			time.Sleep(slice - busy)
		}
	}
}

// taskStats reads the task's statistics as a task on ECS would, each
// second until its own container's show the CPU it used since an earlier
// sample (precpu_stats: a kubelet measures every 10-15 s, Docker at once),
// for up to a minute, and the memory it holds.
func taskStats() error {
	held := touch(16)
	go spin(100)
	base := os.Getenv("ECS_CONTAINER_METADATA_URI_V4")
	type cpu struct {
		CPUUsage struct {
			TotalUsage uint64 `json:"total_usage"`
		} `json:"cpu_usage"`
	}
	for end := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		// wharf learns the container's id when its start returns, which a
		// program this quick can beat: until then DockerId is empty.
		var self struct{ DockerId string }
		if err := getJSON(base, &self); err != nil {
			return err
		}
		if self.DockerId == "" {
			if time.Now().After(end) {
				return errors.New("the container metadata never had a DockerId")
			}
			continue
		}
		var stats map[string]*struct {
			Read        time.Time `json:"read"`
			PreRead     time.Time `json:"preread"`
			CPUStats    cpu       `json:"cpu_stats"`
			PreCPUStats cpu       `json:"precpu_stats"`
			MemoryStats struct {
				Usage uint64 `json:"usage"`
			} `json:"memory_stats"`
		}
		if err := getJSON(base+"/task/stats", &stats); err != nil {
			return err
		}
		st := stats[self.DockerId]
		if st == nil {
			// A runtime may have nothing on a container this young yet (the
			// kubelet's summary lists it after its next housekeeping; ECS's
			// agent answers null for it until then): ask again.
			if time.Now().After(end) {
				return fmt.Errorf("after a minute no statistics for this container (%s) in /task/stats", self.DockerId)
			}
			continue
		}
		now, pre := st.CPUStats.CPUUsage.TotalUsage, st.PreCPUStats.CPUUsage.TotalUsage
		if pre > 0 && now > pre && st.MemoryStats.Usage >= uint64(len(held)) {
			fmt.Printf("task stats: containers=%d cpu_total_ns=%d cpu_since_preread_ns=%d window_ms=%d memory_bytes=%d held=%d\n",
				len(stats), now, now-pre, st.Read.Sub(st.PreRead).Milliseconds(), st.MemoryStats.Usage, len(held))
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("after a minute the statistics do not show the CPU used or the memory held: %+v", st)
		}
	}
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
