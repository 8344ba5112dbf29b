{#-
    A DO block that creates again, in order, the views dependent_views_query saved
    before `replaced` was dropped and created anew (its columns changed): each with its
    definition, options, comments and privileges as they were. A view that cannot be
    created over the new columns (it reads one that is gone) is left to this build when
    it is among `rebuilt_later` (models this invocation builds next); otherwise the
    block raises, and the transaction, the replacement with it, rolls back: nothing a
    command reads is dropped (ADR 0006).
-#}
{% macro recreate_dependent_views(saved_views, replaced, model_name, rebuilt_later=[], project_views=[]) %}
do $ai_gate$
declare
    saved jsonb := '{{ saved_views | replace("'", "''") }}'::jsonb;
    rebuilt_later text[] := array[{%- for name in rebuilt_later -%}'{{ name | replace("'", "''") }}'{{ ', ' if not loop.last }}{%- endfor -%}]::text[];
    project_views text[] := array[{%- for name in project_views -%}'{{ name | replace("'", "''") }}'{{ ', ' if not loop.last }}{%- endfor -%}]::text[];
    view_name text;
    view_state jsonb;
    qualified text;
    saved_grant record;
    column_comment record;
begin
    for view_state in select value from jsonb_array_elements(saved) loop
        qualified := format('%I.%I', view_state ->> 'schema_name', view_state ->> 'view_name');
        view_name := (view_state ->> 'schema_name') || '.' || (view_state ->> 'view_name');
        if view_state ->> 'kind' <> 'v' then
            raise exception 'replacing % would drop %, which is not a plain view (relkind %)',
                '{{ replaced | replace("'", "''") }}', qualified, view_state ->> 'kind'
                using hint = 'Build it together with what it reads: dbt build --select {{ model_name }}+';
        end if;
        begin
            execute format(
                'create view %s%s as %s',
                qualified,
                coalesce(' with (' || (view_state ->> 'options') || ')', ''),
                view_state ->> 'definition'
            );
        exception when others then
            if view_name = any(rebuilt_later) then
                raise notice 'ai-gate: % reads columns % no longer has; this build creates it next',
                    qualified, '{{ replaced | replace("'", "''") }}';
                continue;
            end if;
            raise exception 'replacing % drops the view %, which cannot be created again over its new columns (%)',
                '{{ replaced | replace("'", "''") }}', qualified, sqlerrm
                using hint = 'Nothing was changed. ' || case
                    when view_name = any(project_views)
                        then 'Build them together: ai-gate build --select {{ model_name }}+ (or dbt build --select {{ model_name }}+)'
                    else 'It is no model of this project: change or drop it, then build again'
                end;
        end;
        if (view_state ->> 'owner_oid')::oid <> (select oid from pg_catalog.pg_roles where rolname = current_user) then
            execute format('alter view %s owner to %I', qualified, pg_catalog.pg_get_userbyid((view_state ->> 'owner_oid')::oid));
        end if;
        -- the privileges it had, not those default privileges give a new view
        for saved_grant in
            select distinct acl.grantee
            from pg_catalog.pg_class as classes
            cross join lateral pg_catalog.aclexplode(classes.relacl) as acl
            where classes.oid = qualified::regclass and acl.grantee <> classes.relowner
        loop
            execute format(
                'revoke all on %s from %s',
                qualified,
                case when saved_grant.grantee = 0 then 'public' else quote_ident(pg_catalog.pg_get_userbyid(saved_grant.grantee)) end
            );
        end loop;
        for saved_grant in
            select acl.grantee, acl.privilege_type, acl.is_grantable
            from pg_catalog.aclexplode((view_state ->> 'acl')::aclitem []) as acl
            where acl.grantee <> (view_state ->> 'owner_oid')::oid
        loop
            execute format(
                'grant %s on %s to %s%s',
                saved_grant.privilege_type,
                qualified,
                case when saved_grant.grantee = 0 then 'public' else quote_ident(pg_catalog.pg_get_userbyid(saved_grant.grantee)) end,
                case when saved_grant.is_grantable then ' with grant option' else '' end
            );
        end loop;
        if view_state ->> 'comment' is not null then
            execute format('comment on view %s is %L', qualified, view_state ->> 'comment');
        end if;
        for column_comment in
            select key, value from jsonb_each_text(
                case
                    when jsonb_typeof(view_state -> 'column_comments') = 'object'
                        then view_state -> 'column_comments'
                    else '{}'::jsonb
                end
            )
        loop
            execute format('comment on column %s.%I is %L', qualified, column_comment.key, column_comment.value);
        end loop;
    end loop;
end
$ai_gate$;
{% endmacro %}
