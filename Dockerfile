# wharf as a container: one static binary FROM scratch, no registry or base
# image needed. Build the binary first, then the image:
#
#   CGO_ENABLED=0 go build -trimpath -ldflags=-s -o wharf ./cmd/wharf
#   docker build -t wharf .
#
# Run it with the Docker socket mounted so ECS tasks run as sibling containers,
# on the host's network so those containers reach wharf and its task
# credentials endpoint on 127.0.0.1 (examples/README.md has the details):
#
#   docker run --rm --network host -v /var/run/docker.sock:/var/run/docker.sock wharf
#
# State lives in /data (a volume); add --ephemeral to keep it in memory.
FROM scratch
COPY wharf /wharf
# WORKDIR creates the directories scratch lacks: /tmp for temporary files
# (os.TempDir) and /data for the store.
WORKDIR /tmp
WORKDIR /data
ENV WHARF_DATA_DIR=/data \
    WHARF_LISTEN=0.0.0.0:4566
VOLUME /data
EXPOSE 4566
ENTRYPOINT ["/wharf"]
CMD ["serve"]
