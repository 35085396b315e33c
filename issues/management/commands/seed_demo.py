"""Demo data: two teams, their people and customers, and a few hundred issues with a history.

Idempotent: people, teams and customers are created once; issues only when the demo customers have
none. The history is written through the services with past times, so clocks, events and breaches
are what they would be had it happened for real. `--refresh` (`make demo`) writes the demo customers'
issues afresh so that their history ends now: demo data ages like real data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from issues import services
from issues.defaults import DEFAULT_CALENDAR
from issues.models import (
    Breach,
    BusinessCalendar,
    Contact,
    Customer,
    EventKind,
    Issue,
    IssueEvent,
    Profile,
    Severity,
    SlaPolicy,
    Status,
    Team,
    Tier,
)
from issues.models.issue import CLOCK_COLUMNS
from issues.scan import scan_sla
from notifications import emails
from notifications.models import OutboundEmail

DEMO_PASSWORD = "inloop-demo"
# What the unmatched list shows in the demo (stored once: their Message-IDs are fixed).
EXAMPLE_EMAILS = [
    ("From: Olivia Grant <olivia@newcorp.example>\nTo: support@inloop.localhost\nSubject: Can you help us too?\n"
    "Message-ID: <demo-olivia@newcorp.example>\nContent-Type: text/plain; charset=utf-8\n\n"
    "Hello, we heard good things about your support. Who should we talk to about a contract?\n\nOlivia\n"),
    ("From: 최지훈 <jihoon@partner.example.kr>\nTo: support@inloop.localhost\nSubject: 견적 문의\n"
    "Message-ID: <demo-jihoon@partner.example.kr>\nContent-Type: text/plain; charset=utf-8\n\n"
    "안녕하세요. 다음 달 도입을 검토하고 있어 견적을 받고 싶습니다.\n\n최지훈 드림\n"),
]

# username: (first name, last name, language of pages and emails)
PEOPLE = {
    "admin": ("Ada", "Admin", "en"),
    "lead": ("Jisoo", "Kim", "ko"),
    "manager": ("Hana", "Lee", "en"),
    "daniel": ("Daniel", "Cho", "en"),
    "mina": ("Mina", "Seo", "ko"),
    "sora": ("Sora", "Jung", "ko"),
    "james": ("James", "Park", "en"),
    "yuna": ("Yuna", "Han", "ko"),
}
TEAMS = {
    "Enterprise Support": ("lead", ["manager", "daniel", "mina"]),
    "Growth Accounts": ("sora", ["james", "yuna"]),
}
TEAM_ADDRESSES = {"Enterprise Support": "support@inloop.localhost"}
# name, code, team, account manager, language, contacts (name, email, language)
CUSTOMERS = [
    ("Acme Logistics", "ACME", "Enterprise Support", "manager", "en",
     [("Grace Hopper", "grace@acme.example.com", "en"), ("Min-jun Choi", "minjun@acme.example.com", "ko")]),
    ("Hanbit Bank", "HANBIT", "Enterprise Support", "manager", "ko",
     [("박서연", "seoyeon.park@hanbit.example.kr", "ko"), ("이도윤", "doyun.lee@hanbit.example.kr", "ko")]),
    ("Daehan Telecom", "DAEHAN", "Enterprise Support", "mina", "ko",
     [("정하은", "haeun@daehan.example.kr", "ko")]),
    ("Northwind Foods", "NWIND", "Enterprise Support", "daniel", "en",
     [("Alan Turing", "alan@northwind.example.com", "en"), ("Joan Clarke", "joan@northwind.example.com", "en")]),
    ("Blue Harbor Shipping", "BLUE", "Growth Accounts", "james", "en",
     [("Ken Thompson", "ken@blueharbor.example.com", "en")]),
    ("Seoul Mobility", "SMOB", "Growth Accounts", "yuna", "ko",
     [("김지호", "jiho@seoulmobility.example.kr", "ko"), ("Emma Stone", "emma@seoulmobility.example.kr", "en")]),
    ("Gangnam Clinic", "GNC", "Growth Accounts", "yuna", "ko",
     [("최유진", "yujin@gnclinic.example.kr", "ko")]),
    ("Orbit Games", "ORBIT", "Growth Accounts", "james", "en",
     [("Margaret Hamilton", "margaret@orbit.example.com", "en")]),
]
TITLES = {
    "en": [
        "Invoices export times out", "Cannot log in with SSO", "Tracking page shows wrong ETA",
        "API returns 502 on bulk upload", "Password reset email never arrives", "Dashboard charts are empty",
        "Duplicate charges on the March invoice", "Mobile app crashes on startup", "Webhook retries stopped",
        "Report totals differ from CSV", "Slow search on the orders page", "New users do not receive invites",
    ],
    "ko": [
        "정산 내역 다운로드가 실패합니다", "SSO 로그인이 되지 않습니다", "배송 조회 화면의 도착 예정 시간이 틀립니다",
        "대량 업로드 시 API가 502를 반환합니다", "비밀번호 재설정 메일이 오지 않습니다", "대시보드 그래프가 비어 있습니다",
        "3월 청구서에 중복 결제가 있습니다", "모바일 앱이 실행 직후 종료됩니다", "웹훅 재시도가 멈췄습니다",
        "보고서 합계가 CSV와 다릅니다", "주문 페이지 검색이 느립니다", "신규 사용자에게 초대 메일이 가지 않습니다",
    ],
}
# What an owner asks when the issue then waits on the customer ("send and wait").
QUESTIONS = {
    "en": ["Could you send us the error message and the time it happened?",
           "Which invoice numbers are affected? We need two examples to go on."],
    "ko": ["오류 메시지와 발생 시각을 보내 주실 수 있을까요?", "어떤 송장 번호에서 문제가 생기는지 두 건만 알려 주시면 이어서 확인하겠습니다."],
}
UPDATES = {
    "en": ["We reproduced the problem and are working on a fix.", "A fix is being tested on staging.",
           "We are still investigating with the engineering team.", "The fix is deployed; please confirm."],
    "ko": ["문제를 재현했고 수정 작업을 진행하고 있습니다.", "수정 사항을 스테이징에서 검증하고 있습니다.",
           "개발팀과 함께 원인을 계속 확인하고 있습니다.", "수정 사항을 배포했습니다. 확인 부탁드립니다."],
}
# The demo's Premium tier: tighter clocks than the base policies for red, orange and blue (green keeps the
# base policy), and the customers on it.
PREMIUM_POLICIES = {
    Severity.RED: {"acknowledge_within": timedelta(minutes=30), "update_every": timedelta(hours=12)},
    Severity.ORANGE: {"acknowledge_within": timedelta(hours=2), "update_every": timedelta(days=1)},
    Severity.BLUE: {"acknowledge_within": timedelta(hours=4), "update_every": timedelta(hours=18), "business_time": True,
                    "fallback_acknowledge_within": timedelta(hours=12), "fallback_update_every": timedelta(days=3)},
}
PREMIUM_CUSTOMERS = {"HANBIT"}
SEVERITY_WEIGHTS = {Severity.RED: 1, Severity.ORANGE: 3, Severity.BLUE: 8, Severity.GREEN: 4}


@dataclass
class Story:
    """How one demo issue's life goes, drawn at random but reproducibly."""

    age: timedelta
    fate: str
    silence: timedelta  # how long ago the customer last heard from us, for open issues


class Command(BaseCommand):
    help = "Create demo teams, people, customers and a few hundred issues. Safe to run twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--issues", type=int, default=300, help="How many issues to create (default 300).")
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (never in production).")
        parser.add_argument("--refresh", action="store_true",
                            help="Replace the demo customers' issues with a history that ends now.")

    def handle(self, *args, issues: int, force: bool, refresh: bool = False, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates users with a published password; with DEBUG off, add --force.")
        # The demo's history is written in one go; its emails are marked delivered below, so no worker
        # needs to be woken for them.
        settings.OUTBOX_NUDGE_WORKER = False
        with transaction.atomic():
            people = self.create_people()
            customers = self.create_customers(people)
        if refresh:
            # Their events, breaches, promises and emails go with them (cascade); inbound mail stays, unlinked.
            deleted, _by_model = Issue.objects.filter(customer__in=customers).delete()
            self.stdout.write(f"Removed the demo's old history ({deleted} rows).")
        if Issue.objects.filter(customer__in=customers).exists():
            self.stdout.write("Demo data is already there; nothing to do.")
            return
        now = timezone.now()
        self.create_issues(customers, people, count=issues, now=now)
        self.catch_up(customers, now=now)
        # The demo's history happened in the past: its emails count as delivered, not as a backlog.
        OutboundEmail.objects.filter(issue__customer__in=customers).update(
            status=OutboundEmail.Status.SENT, sent_at=F("created_at")
        )
        self.receive_examples()
        self.stdout.write(self.style.SUCCESS(
            f"Demo ready: {len(people)} people, {len(customers)} customers, {issues} issues. "
            f"Log in as manager, lead or admin with password {DEMO_PASSWORD}."
        ))

    def catch_up(self, customers: list[Customer], *, now) -> None:
        """The scan that would have run all along: clocks that ran out in the demo's past are breached, and
        dated when they ran out (their due time), not when this command happened to run."""
        scan_sla(now=now)
        breaches = Breach.objects.filter(issue__customer__in=customers, breached_at=now)
        IssueEvent.objects.filter(issue__customer__in=customers, kind=EventKind.CLOCK_BREACHED, at=now).update(
            at=Subquery(breaches.filter(issue=OuterRef("issue"), clock=OuterRef("new_value")).values("due_at")[:1])
        )
        for columns in CLOCK_COLUMNS.values():
            Issue.objects.filter(customer__in=customers, **{columns.breached: now}).update(
                **{columns.breached: F(columns.due)})
        breaches.update(breached_at=F("due_at"))

    def receive_examples(self) -> None:
        """Two emails that found no issue, for the unmatched list: a stranger, and an out-of-office."""
        from inbound.models import Source
        from inbound.pipeline import receive

        for raw in EXAMPLE_EMAILS:
            receive(raw.encode(), source=Source.DEV_MAILBOX)

    def create_people(self) -> dict:
        User = get_user_model()
        people = {}
        for username, (first, last, language) in PEOPLE.items():
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@inloop.example.com",
                          "is_staff": username == "admin", "is_superuser": username == "admin"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            Profile.objects.get_or_create(user=user, defaults={"language": language})
            people[username] = user
        office = BusinessCalendar.objects.filter(name=DEFAULT_CALENDAR).first()
        for name, (lead, members) in TEAMS.items():
            team, created = Team.objects.get_or_create(name=name, defaults={"lead": people[lead], "calendar": office})
            if name in TEAM_ADDRESSES and not team.email:
                # Unknown senders writing to this address wait in this team's unmatched list.
                Team.objects.filter(pk=team.pk).update(email=TEAM_ADDRESSES[name])
            if created:
                team.members.set([people[m] for m in members])
        return people

    def create_premium_tier(self) -> Tier:
        tier, _created = Tier.objects.get_or_create(name="Premium", defaults={"position": 1})
        for severity, values in PREMIUM_POLICIES.items():
            SlaPolicy.objects.get_or_create(tier=tier, severity=severity, defaults=values)
        return tier

    def create_customers(self, people: dict) -> list[Customer]:
        customers = []
        premium = self.create_premium_tier()
        for name, code, team_name, manager, language, contacts in CUSTOMERS:
            customer, _created = Customer.objects.get_or_create(
                code=code,
                defaults={"name": name, "slug": code.lower(), "team": Team.objects.get(name=team_name),
                          "account_manager": people[manager], "language": language,
                          "tier": premium if code in PREMIUM_CUSTOMERS else None},
            )
            for contact_name, email, contact_language in contacts:
                Contact.objects.get_or_create(
                    customer=customer, email=email, defaults={"name": contact_name, "language": contact_language}
                )
            customers.append(customer)
        return customers

    def create_issues(self, customers: list[Customer], people: dict, *, count: int, now) -> None:
        rng = random.Random(2026)
        stories = sorted((self.draw_story(rng) for _ in range(count)), key=lambda story: -story.age)
        for story in stories:
            customer = rng.choice(customers)
            with transaction.atomic():
                self.live(story, customer, rng, now=now)

    def draw_story(self, rng: random.Random) -> Story:
        fate = rng.choices(
            ["unacknowledged", "in_progress", "waiting", "quiet", "resolved", "closed"],
            weights=[2, 4, 2, 2, 5, 3],
        )[0]
        if fate in {"resolved", "closed"}:
            return Story(age=timedelta(hours=rng.uniform(2, 24 * 60)), fate=fate, silence=timedelta(0))
        # Most open issues are in good shape; a few are at risk or overdue, as on a real team's day.
        age = timedelta(hours=rng.choice([rng.uniform(0.2, 8), rng.uniform(8, 24 * 14)]))
        silence = timedelta(hours=rng.choices([rng.uniform(0, 12), rng.uniform(12, 60), rng.uniform(60, 220)],
                                              weights=[7, 2, 1])[0])
        return Story(age=age, fate=fate, silence=min(silence, age * 0.9))

    def live(self, story: Story, customer: Customer, rng: random.Random, *, now) -> None:
        language = customer.language
        team_people = [customer.team.lead, *customer.team.members.all()]
        owner = customer.account_manager if rng.random() < 0.8 else None
        severity = rng.choices(list(SEVERITY_WEIGHTS), weights=list(SEVERITY_WEIGHTS.values()))[0]
        opened_at = now - story.age
        issue = services.open_issue(
            customer=customer, title=rng.choice(TITLES[language]), severity=severity, owner=owner,
            description=rng.choice(UPDATES[language]), reporter=customer.contacts.order_by("?").first(),
            by=owner or team_people[0], now=opened_at,
        )
        if story.fate == "unacknowledged":
            return
        actor = owner or rng.choice(team_people)
        moment = opened_at + min(story.age * rng.uniform(0.01, 0.1), timedelta(hours=rng.uniform(0.1, 3)))
        services.acknowledge(issue=issue, by=actor, now=moment)
        if story.fate == "quiet":
            return  # acknowledged, then nothing: these are the ones the update clock catches
        services.change_status(issue=issue, status=Status.IN_PROGRESS, by=actor, now=moment)
        last_update_at = max(now - story.silence, moment)
        updates = rng.sample(UPDATES[language], k=rng.randint(1, 3))
        for step, text in enumerate(updates, start=1):
            moment += (last_update_at - moment) * step / len(updates)
            services.post_update(issue=issue, body=text, public=step == len(updates) or rng.random() < 0.7,
                                 by=actor, now=moment)
        if story.fate == "waiting" and emails.update_recipients([issue])[issue.pk]:
            services.post_update(issue=issue, body=rng.choice(QUESTIONS[language]), public=True, by=actor,
                                 now=min(moment + timedelta(minutes=5), now), wait=True)
        elif story.fate in {"resolved", "closed"}:
            services.resolve(issue=issue, by=actor, body=UPDATES[language][-1], now=moment)
            if story.fate == "closed":
                services.change_status(issue=issue, status=Status.CLOSED, by=actor, now=moment)
