#!/bin/sh
# The floor: the benchmark's work as one shell script, sent to each host in one `ssh`
# invocation (`ssh host sh -s < floor.sh`), all hosts in parallel. Idempotent like the others.
set -e
root=/srv/bench
app_name=shop
app_port=8080
workers=4
mkdir -p "$root/conf" "$root/releases" "$root/shared" "$root/logs" "$root/run"
chmod 0755 "$root/conf" "$root/releases" "$root/shared" "$root/logs" "$root/run"
want=$(printf 'APP_NAME=%s\nAPP_PORT=%s\nWORKERS=%s\n' "$app_name" "$app_port" "$workers")
[ "$(cat "$root/conf/app.env" 2>/dev/null)" = "$want" ] || { printf '%s\n' "$want" > "$root/conf/app.env.tmp" && mv "$root/conf/app.env.tmp" "$root/conf/app.env"; }
chmod 0640 "$root/conf/app.env"
grep -qx 'LOG_LEVEL=info' "$root/conf/logging.conf" 2>/dev/null || echo 'LOG_LEVEL=info' >> "$root/conf/logging.conf"
robots='User-agent: *
Disallow: /admin/'
[ "$(cat "$root/shared/robots.txt" 2>/dev/null)" = "$robots" ] || printf '%s\n' "$robots" > "$root/shared/robots.txt"
site="# managed
server {
    listen $app_port;
    server_name $(hostname);
    location / {
        proxy_pass http://127.0.0.1:$((app_port + 1));
    }
    # $workers workers
}"
if [ "$(cat "$root/conf/site.conf" 2>/dev/null)" != "$site" ]; then
    printf '%s\n' "$site" > "$root/conf/site.conf.tmp" && mv "$root/conf/site.conf.tmp" "$root/conf/site.conf"
    touch "$root/run/reloaded"
fi
block='# BEGIN ANSIBLE MANAGED BLOCK
nofile 65536
nproc 4096
# END ANSIBLE MANAGED BLOCK'
[ "$(cat "$root/conf/limits.conf" 2>/dev/null)" = "$block" ] || printf '%s\n' "$block" > "$root/conf/limits.conf"
[ -e "$root/releases/initialised" ] || touch "$root/releases/initialised"
count=$(ls "$root/conf" | wc -l)
[ -e "$root/releases/initialised" ] && { [ -e "$root/run/ready" ] || echo "ready with $count config files" > "$root/run/ready"; }
