#!/usr/bin/perl
# Seed an RT made by scripts/rt-server with USERS requestors, TICKETS tickets and about TXNS
# transactions (the tickets' Create transactions, then replies and comments spread over
# them), through RT's own Perl API in one process: the REST API made one request per
# transaction, which is an hour for 50,000. Scrips are switched off while seeding (no
# autoreplies or notifications to render and drop), so every transaction is one we asked for.
#   RT_SITE_CONFIG=DIR/RT_SiteConfig.pm RT_SITE_CONFIG_DIR=DIR/RT_SiteConfig.d \
#       perl -I/usr/share/request-tracker5/lib benchmarks/rt_seed.pl USERS TICKETS TXNS
use strict;
use warnings;
use RT -init;
use MIME::Entity;

my ($users, $tickets, $txns) = @ARGV;
my $scrips = RT::Scrips->new(RT->SystemUser);
$scrips->UnLimit;
my @disabled;
while (my $scrip = $scrips->Next) {
    next if $scrip->Disabled;
    $scrip->SetDisabled(1);
    push @disabled, $scrip->id;
}
my $root = RT::CurrentUser->new(RT->SystemUser);
$root->Load('root');
my $handle = $RT::Handle;
my @emails;
$handle->BeginTransaction;
for my $n (1 .. $users) {
    my $user = RT::User->new(RT->SystemUser);
    my $email = sprintf('customer%05d@example.com', $n);
    my ($ok, $msg) = $user->Create(Name => $email, EmailAddress => $email,
        RealName => "Customer $n", Organization => "Company " . ($n % 97),
        WorkPhone => sprintf('+1 202 555 %04d', $n % 10000), Privileged => 0);
    die "user $n: $msg" unless $ok;
    push @emails, $email;
}
$handle->Commit;
my @ids;
my $made = 0;
$handle->BeginTransaction;
for my $n (1 .. $tickets) {
    my $ticket = RT::Ticket->new($root);
    my $mime = MIME::Entity->build(Type => 'text/plain', Charset => 'UTF-8',
        Data => ["Ticket $n: something is wrong with order $n.\n"]);
    my ($id, undef, $msg) = $ticket->Create(Queue => 'General', Subject => "Order $n",
        Requestor => [$emails[$n % @emails]], MIMEObj => $mime);
    die "ticket $n: $msg" unless $id;
    push @ids, $id;
    $made++;
    if ($n % 500 == 0) { $handle->Commit; $handle->BeginTransaction; }
}
$handle->Commit;
my $i = 0;
$handle->BeginTransaction;
while ($made < $txns) {
    my $ticket = RT::Ticket->new($root);
    $ticket->Load($ids[$i % @ids]);
    my $mime = MIME::Entity->build(Type => 'text/plain', Charset => 'UTF-8',
        Data => ["Reply $i on ticket " . $ticket->id . ".\n"]);
    my ($ok, $msg) = $i % 3 == 2 ? $ticket->Comment(MIMEObj => $mime)
                                 : $ticket->Correspond(MIMEObj => $mime);
    die "reply $i: $msg" unless $ok;
    $made++;
    $i++;
    if ($i % 1000 == 0) { $handle->Commit; $handle->BeginTransaction; print STDERR "$made\n"; }
}
$handle->Commit;
for my $id (@disabled) {
    my $scrip = RT::Scrip->new(RT->SystemUser);
    $scrip->Load($id);
    $scrip->SetDisabled(0);
}
print "seeded $users users, $tickets tickets, $made ticket transactions\n";
