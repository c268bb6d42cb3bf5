# Multi-stage build: a static faldone binary (templates, locales, fonts and
# the comuni registry are embedded) on a minimal, non-root image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/faldone ./cmd/faldone \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/faldone /usr/local/bin/faldone
COPY --from=build --chown=nonroot:nonroot /out/data /data
COPY templates /usr/share/faldone/templates
COPY fonts/OFL.txt /usr/share/doc/faldone/fonts-OFL.txt
COPY internal/comuni/LICENSE.md /usr/share/doc/faldone/comuni-LICENSE.md
ENV FALDONE_ADDR=:8080 FALDONE_DATA=/data
USER nonroot:nonroot
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/faldone"]
CMD ["serve"]
