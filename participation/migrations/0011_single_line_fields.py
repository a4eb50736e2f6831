"""Single-line fields: titles, names, questions, options, headings and moderation reasons hold no line breaks.

Rows written before this migration may hold CR or LF (the admin accepted them): each run of
line breaks becomes one space before the check constraints are added, so the migration cannot
fail on existing data and no e-mail subject built from an old title can break.
"""

import re

import participation.validators
from django.conf import settings
from django.db import migrations, models


SINGLE_LINE_COLUMNS = {
    "entity": ("name_ar", "name_en"),
    "item": ("title_ar", "title_en"),
    "question": ("text_ar", "text_en"),
    "option": ("text_ar", "text_en"),
    "section": ("heading_ar", "heading_en"),
    "comment": ("moderation_reason",),
}
LINE_BREAKS = re.compile(r"[\r\n]+")


def join_broken_lines(apps, schema_editor):
    for model_name, fields in SINGLE_LINE_COLUMNS.items():
        model = apps.get_model("participation", model_name)
        broken = models.Q()
        for field in fields:
            broken |= models.Q(**{f"{field}__contains": "\n"}) | models.Q(**{f"{field}__contains": "\r"})
        for row in model.objects.filter(broken).only(*fields):
            for field in fields:
                joined = LINE_BREAKS.sub(" ", getattr(row, field))
                # A hidden comment's reason must stay non-empty (hidden_comment_has_reason).
                setattr(row, field, joined.strip() or joined)
            row.save(update_fields=fields)


class Migration(migrations.Migration):

    dependencies = [
        ('participation', '0010_result_immutable'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='comment',
            name='moderation_reason',
            field=models.CharField(blank=True, max_length=300, validators=[participation.validators.validate_single_line], verbose_name='reason'),
        ),
        migrations.AlterField(
            model_name='entity',
            name='name_ar',
            field=models.CharField(max_length=200, validators=[participation.validators.validate_single_line], verbose_name='name (Arabic)'),
        ),
        migrations.AlterField(
            model_name='entity',
            name='name_en',
            field=models.CharField(max_length=200, validators=[participation.validators.validate_single_line], verbose_name='name (English)'),
        ),
        migrations.AlterField(
            model_name='item',
            name='title_ar',
            field=models.CharField(blank=True, max_length=200, validators=[participation.validators.validate_single_line], verbose_name='title (Arabic)'),
        ),
        migrations.AlterField(
            model_name='item',
            name='title_en',
            field=models.CharField(blank=True, max_length=200, validators=[participation.validators.validate_single_line], verbose_name='title (English)'),
        ),
        migrations.AlterField(
            model_name='option',
            name='text_ar',
            field=models.CharField(max_length=200, validators=[participation.validators.validate_single_line], verbose_name='option (Arabic)'),
        ),
        migrations.AlterField(
            model_name='option',
            name='text_en',
            field=models.CharField(max_length=200, validators=[participation.validators.validate_single_line], verbose_name='option (English)'),
        ),
        migrations.AlterField(
            model_name='question',
            name='text_ar',
            field=models.CharField(max_length=300, validators=[participation.validators.validate_single_line], verbose_name='question (Arabic)'),
        ),
        migrations.AlterField(
            model_name='question',
            name='text_en',
            field=models.CharField(max_length=300, validators=[participation.validators.validate_single_line], verbose_name='question (English)'),
        ),
        migrations.AlterField(
            model_name='section',
            name='heading_ar',
            field=models.CharField(max_length=200, validators=[participation.validators.validate_single_line], verbose_name='heading (Arabic)'),
        ),
        migrations.AlterField(
            model_name='section',
            name='heading_en',
            field=models.CharField(max_length=200, validators=[participation.validators.validate_single_line], verbose_name='heading (English)'),
        ),
        migrations.RunPython(join_broken_lines, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='comment',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('moderation_reason__contains', '\r'), _negated=True), models.Q(('moderation_reason__contains', '\n'), _negated=True)), name='comment_reason_single_line'),
        ),
        migrations.AddConstraint(
            model_name='entity',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('name_ar__contains', '\r'), _negated=True), models.Q(('name_ar__contains', '\n'), _negated=True), models.Q(('name_en__contains', '\r'), _negated=True), models.Q(('name_en__contains', '\n'), _negated=True)), name='entity_name_single_line'),
        ),
        migrations.AddConstraint(
            model_name='item',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('title_ar__contains', '\r'), _negated=True), models.Q(('title_ar__contains', '\n'), _negated=True), models.Q(('title_en__contains', '\r'), _negated=True), models.Q(('title_en__contains', '\n'), _negated=True)), name='item_title_single_line'),
        ),
        migrations.AddConstraint(
            model_name='option',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('text_ar__contains', '\r'), _negated=True), models.Q(('text_ar__contains', '\n'), _negated=True), models.Q(('text_en__contains', '\r'), _negated=True), models.Q(('text_en__contains', '\n'), _negated=True)), name='option_text_single_line'),
        ),
        migrations.AddConstraint(
            model_name='question',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('text_ar__contains', '\r'), _negated=True), models.Q(('text_ar__contains', '\n'), _negated=True), models.Q(('text_en__contains', '\r'), _negated=True), models.Q(('text_en__contains', '\n'), _negated=True)), name='question_text_single_line'),
        ),
        migrations.AddConstraint(
            model_name='section',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('heading_ar__contains', '\r'), _negated=True), models.Q(('heading_ar__contains', '\n'), _negated=True), models.Q(('heading_en__contains', '\r'), _negated=True), models.Q(('heading_en__contains', '\n'), _negated=True)), name='section_heading_single_line'),
        ),
    ]
