"""A small Django app, written the way a Django user writes one (startapp defaults)."""

import uuid

from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
    email = models.CharField(max_length=200, db_index=True)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    number = models.IntegerField()
    total = models.DecimalField(max_digits=10, decimal_places=2)
    details = models.JSONField(default=dict)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True)
    paid = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        unique_together = [("customer", "number")]
