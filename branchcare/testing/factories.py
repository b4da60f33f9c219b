"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from branchcare.clients.models import Client, Holding, Price, Security
from branchcare.clients.pinyin import name_pinyin
from branchcare.org.models import Branch, Company, Role, Room, Seat, Team, User


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = "示例证券股份有限公司"


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.LazyAttribute(lambda o: f"测试营业部{o.code}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(lambda n: f"财富管理{n}组")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"员工{n}")
    branch = factory.SubFactory(BranchFactory)
    password = factory.django.Password("Passw0rd!x")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.roles.set(Role.objects.filter(code__in=extracted))


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(lambda n: f"大户室{n}")
    kind = Room.Kind.VIP
    capacity = 8


class SeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seat

    room = factory.SubFactory(RoomFactory)
    label = factory.Sequence(lambda n: f"{n:02d}")


class SecurityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Security
        django_get_or_create = ("code", "exchange")

    code = factory.Sequence(lambda n: f"{600000 + n:06d}")
    exchange = Security.Exchange.SH
    name = factory.Sequence(lambda n: f"测试股份{n}")
    kind = Security.Kind.STOCK
    risk_rating = "R3"
    industry = "银行"


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    branch = factory.SubFactory(BranchFactory)
    client_no = factory.Sequence(lambda n: f"{31000000 + n}")
    name = factory.Sequence(
        lambda n: ["张三", "李四", "王五", "赵六", "孙七", "周八"][n % 6] + ("" if n < 6 else str(n))
    )
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    id_number = factory.Sequence(lambda n: f"310101199001{n:06d}")
    risk_level = "C3"
    risk_assessed_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=100))
    opened_on = dt.date(2020, 1, 2)
    total_assets = Decimal("100000")

    @factory.lazy_attribute
    def name_pinyin(self):
        return name_pinyin(self.name)[0]

    @factory.lazy_attribute
    def name_initials(self):
        return name_pinyin(self.name)[1]

    @factory.lazy_attribute
    def phone_tail(self):
        return str(self.phone)[-4:]


class HoldingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holding

    client = factory.SubFactory(ClientFactory)
    security = factory.SubFactory(SecurityFactory)
    quantity = 1000
    cost_price = Decimal("10.00")
    as_of = dt.date(2026, 11, 20)


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Price

    security = factory.SubFactory(SecurityFactory)
    date = dt.date(2026, 11, 24)
    close = Decimal("11.00")
