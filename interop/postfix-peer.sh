#!/usr/bin/env bash
# A private Postfix on 127.0.0.1 that relays mail for one domain to Mailroom, as a real peer
# MTA would. It never delivers anywhere else: default_transport and relay_transport are
# "error", only the relay domain has a route, and smtpd listens on loopback only.
#
#   interop/postfix-peer.sh start BASE LISTEN_PORT DOMAIN MAILROOM_PORT
#   interop/postfix-peer.sh stop BASE
#   interop/postfix-peer.sh log BASE
set -euo pipefail
cmd=$1 base=$2
conf=$base/etc
case $cmd in
start)
    port=$3 domain=$4 target=$5
    mkdir -p "$conf" "$base/spool" "$base/data" "$base/log"
    chown root:root "$base" "$conf" "$base/spool"
    chmod 755 "$base" "$conf" "$base/spool"
    chown postfix:postfix "$base/data"
    echo "$domain smtp:[127.0.0.1]:$target" > "$conf/transport"
    cat > "$conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $base/spool
data_directory = $base/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $base/log/maillog
maillog_file_prefixes = $base/log
syslog_name = postfix-peer
myhostname = peer.example.net
mydomain = example.net
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains = $domain
transport_maps = texthash:$conf/transport
default_transport = error:this test peer relays only to Mailroom
relay_transport = error:this test peer relays only to Mailroom
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtputf8_enable = yes
CF
    cat > "$conf/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
tlsmgr    unix  - - n 1000? 1 tlsmgr
CF
    # postfix(1) prints errors only to a terminal when there is no syslog: use script(1).
    script -qec "postfix -c $conf check" /dev/null
    script -qec "postfix -c $conf start" /dev/null
    for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && exit 0
        sleep 0.1
    done
    echo "postfix did not start; see $base/log/maillog" >&2
    exit 1
    ;;
stop)
    script -qec "postfix -c $conf stop" /dev/null || true
    ;;
log)
    cat "$base/log/maillog" 2>/dev/null || true
    ;;
esac
