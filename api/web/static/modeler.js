/* landflow's modeler page: bpmn-js's Modeler (vendored) and landflow's own properties panel.
 *
 * Properties are written the way docs/procedure-conventions.md says the engine reads them:
 * `spiffworkflow:properties` in the element's extensionElements (sla, clock, legal_basis, result, form,
 * signed, refusal, refusal_reason, paper.<code>, label.<field>), the owner as the lane or
 * `camunda:candidateGroups`; every change goes through bpmn-js's modeling API, so it can be undone and
 * the exported XML is what the engine checks. After each change (debounced) the diagram is sent to the
 * engine's own check; its problems are marked on their elements and listed with the "6 clear" figure.
 * Plain script, no framework; nothing is fetched from anywhere but this server.
 */
(function () {
  'use strict';

  var root = document.getElementById('modeler');
  if (!root || typeof window.BpmnJS !== 'function') { return; }
  var T = JSON.parse(document.getElementById('modeler-texts').textContent);
  var ROLES = JSON.parse(document.getElementById('modeler-roles').textContent);
  var FRAGMENTS = JSON.parse((document.getElementById('modeler-fragments') || { textContent: '[]' }).textContent);
  var ROLE_NAMES = {};
  ROLES.forEach(function (r) { ROLE_NAMES[r.code] = r.name; });
  var TYPES = ['text', 'number', 'integer', 'bool', 'date', 'choice'];
  var BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL';

  function props(prefix) {
    return [
      { name: 'Properties', superClass: ['Element'],
        properties: [{ name: 'properties', type: 'Property', isMany: true }] },
      { name: 'Property', superClass: ['Element'],
        properties: [{ name: 'name', isAttr: true, type: 'String' }, { name: 'value', isAttr: true, type: 'String' }] }
    ];
  }
  var SPIFF = { name: 'SpiffWorkflow', uri: 'http://spiffworkflow.org/bpmn/schema/1.0/core', prefix: 'spiffworkflow',
    xml: { tagAlias: 'lowerCase' }, types: props() };
  var CAMUNDA = { name: 'Camunda', uri: 'http://camunda.org/schema/1.0/bpmn', prefix: 'camunda',
    xml: { tagAlias: 'lowerCase' }, types: props().concat([
      { name: 'Assignable', 'extends': ['bpmn:UserTask'],
        properties: [{ name: 'candidateGroups', isAttr: true, type: 'String' }] }]) };

  /* The palette's plain "task" becomes a user task: the engine refuses plain tasks (they have no owner),
   * and the shape it creates is the modeler's own (nobody writes coordinates). */
  function StepPalette(palette, create, elementFactory) {
    palette.registerProvider(this);
    this.getPaletteEntries = function () {
      function start(event) { create.start(event, elementFactory.createShape({ type: 'bpmn:UserTask' })); }
      return function (entries) {
        delete entries['create.task'];
        entries['create.user-task'] = { group: 'activity', className: 'bpmn-icon-user-task', title: T.new_step,
          action: { dragstart: start, click: start } };
        return entries;
      };
    };
  }
  StepPalette.$inject = ['palette', 'create', 'elementFactory'];

  var modeler = new window.BpmnJS({ container: '#canvas', additionalModules: [{ __init__: ['stepPalette'], stepPalette: ['type', StepPalette] }],
    moddleExtensions: { spiffworkflow: SPIFF, camunda: CAMUNDA } });
  var modeling = modeler.get('modeling');
  var moddle = modeler.get('moddle');
  var bpmnFactory = modeler.get('bpmnFactory');
  var canvas = modeler.get('canvas');
  var registry = modeler.get('elementRegistry');
  var overlays = modeler.get('overlays');
  var selection = modeler.get('selection');
  var panel = document.getElementById('panel-body');
  var selected = null;
  var lastProblems = [];
  var completing = false;

  function fmt(text, params) {
    return text.replace(/%\((\w+)\)s/g, function (_m, k) { return params[k] === undefined ? '' : params[k]; });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else if (k === 'checked') { node.checked = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  /* -- reading and writing extension properties ------------------------------------------------ */
  function propsOf(bo) {
    var ext = bo.extensionElements;
    if (!ext) { return null; }
    return (ext.get('values') || []).filter(function (v) {
      return v.$type === 'spiffworkflow:Properties' || v.$type === 'camunda:Properties';
    })[0] || null;
  }
  function getProp(bo, name) {
    var p = propsOf(bo);
    if (!p) { return ''; }
    var found = (p.get('properties') || []).filter(function (x) { return x.name === name; })[0];
    return found ? (found.value || '') : '';
  }
  function propNames(bo, prefix) {
    var p = propsOf(bo);
    return p ? (p.get('properties') || []).map(function (x) { return x.name; })
      .filter(function (n) { return n && n.indexOf(prefix) === 0; }) : [];
  }
  function setProp(element, bo, name, value) {
    var ext = bo.extensionElements;
    if (!ext) {
      ext = moddle.create('bpmn:ExtensionElements', { values: [] });
      modeling.updateModdleProperties(element, bo, { extensionElements: ext });
    }
    var holder = propsOf(bo);
    if (!holder) {
      if (value === '' || value === null) { return; }
      holder = moddle.create('spiffworkflow:Properties', { properties: [] });
      modeling.updateModdleProperties(element, ext, { values: ext.get('values').concat([holder]) });
    }
    var list = holder.get('properties');
    var existing = list.filter(function (x) { return x.name === name; })[0];
    if (value === '' || value === null) {
      if (existing) {
        modeling.updateModdleProperties(element, holder, { properties: list.filter(function (x) { return x !== existing; }) });
      }
      return;
    }
    if (existing) {
      if (existing.value !== value) { modeling.updateModdleProperties(element, existing, { value: value }); }
    } else {
      var prop = moddle.create(holder.$type.split(':')[0] + ':Property', { name: name, value: value });
      modeling.updateModdleProperties(element, holder, { properties: list.concat([prop]) });
    }
  }

  /* -- durations in working time ------------------------------------------------------------- */
  function parseLimit(text) {
    var m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(text || '');
    if (!m || text === 'P' || text === 'PT') { return { n: '', unit: 'D' }; }
    var days = (+(m[1] || 0)) * 5 + (+(m[2] || 0));
    var hours = +(m[3] || 0);
    if (hours || m[4]) { return { n: String(days * 8 + hours), unit: 'H' }; }
    return { n: String(days), unit: 'D' };
  }
  function writeLimit(n, unit) {
    if (!/^\d+$/.test(n) || +n === 0) { return ''; }
    return unit === 'H' ? 'PT' + (+n) + 'H' : 'P' + (+n) + 'D';
  }

  /* -- forms: `name:type!; other:choice(a|b)` ----------------------------------------------------- */
  function parseForm(text) {
    return (text || '').split(';').map(function (s) { return s.trim(); }).filter(Boolean).map(function (part) {
      var m = /^([A-Za-z][A-Za-z0-9_]*)\s*:\s*([a-z]+)(?:\(([^()]*)\))?\s*(!)?$/.exec(part);
      if (!m) { return { name: part, type: 'text', choices: '', required: false }; }
      return { name: m[1], type: m[2], choices: m[3] || '', required: !!m[4] };
    });
  }
  function writeForm(fields) {
    return fields.filter(function (f) { return f.name; }).map(function (f) {
      return f.name + ':' + f.type + (f.type === 'choice' ? '(' + f.choices + ')' : '') + (f.required ? '!' : '');
    }).join('; ');
  }

  /* -- the panel -------------------------------------------------------------------------------- */
  function processOf(element) {
    var bo = element.businessObject;
    if (bo.$type === 'bpmn:Participant') { return bo.processRef; }
    if (bo.$type === 'bpmn:Process') { return bo; }
    return null;
  }
  function procedureElement() {
    var rootEl = canvas.getRootElement();
    if (rootEl.businessObject.$type === 'bpmn:Process') { return rootEl; }
    return registry.filter(function (e) { return e.type === 'bpmn:Participant'; })[0] || rootEl;
  }
  function laneOf(element) {
    var bo = element.businessObject;
    var found = null;
    registry.filter(function (e) { return e.type === 'bpmn:Lane'; }).forEach(function (lane) {
      (lane.businessObject.flowNodeRef || []).forEach(function (n) { if (n === bo) { found = lane.businessObject.name; } });
    });
    return found;
  }
  function field(label, input, id) {
    input.id = id;
    return el('div', {}, [el('label', { 'for': id, text: label }), input]);
  }
  function textProp(element, bo, name, label) {
    var input = el('input', { type: 'text', value: getProp(bo, name) });
    input.addEventListener('change', function () { setProp(element, bo, name, input.value.trim()); });
    return field(label, input, 'p-' + name);
  }
  function limitProp(element, bo, name, label) {
    var cur = parseLimit(getProp(bo, name));
    var n = el('input', { type: 'number', min: '0', step: '1', value: cur.n, 'aria-label': label });
    var unit = el('select', { 'aria-label': label }, [el('option', { value: 'D', text: T.days }), el('option', { value: 'H', text: T.hours })]);
    unit.value = cur.unit;
    function write() { setProp(element, bo, name, writeLimit(n.value.trim(), unit.value)); }
    n.addEventListener('change', write);
    unit.addEventListener('change', write);
    n.id = 'p-' + name;
    return el('div', {}, [el('label', { 'for': n.id, text: label }), el('div', { 'class': 'pair' }, [n, unit])]);
  }
  /* The step id is what the event log, KPI, the diff and a migration's step mapping name for ever: a new
   * step gets bpmn-js's random one (Activity_1x2y3z) until the supervisor gives it a readable one. */
  function idProp(element) {
    var input = el('input', { type: 'text', value: element.businessObject.id, 'aria-describedby': 'p-id-hint' });
    var hint = el('p', { id: 'p-id-hint', 'class': 'muted', text: T.step_id_hint });
    input.addEventListener('change', function () {
      var next = input.value.trim();
      if (next === element.businessObject.id) { return; }
      if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(next) || registry.get(next) || moddle.ids.assigned(next)) {
        hint.textContent = T.bad_id;
        hint.className = 'flash error';
        input.value = element.businessObject.id;
        return;
      }
      hint.textContent = T.step_id_hint;
      hint.className = 'muted';
      modeling.updateProperties(element, { id: next });
    });
    return el('div', {}, [el('label', { 'for': 'p-id', text: T.step_id }), Object.assign(input, { id: 'p-id' }), hint]);
  }
  function nameProp(element) {
    var input = el('input', { type: 'text', value: element.businessObject.name || '' });
    input.addEventListener('change', function () { modeling.updateLabel(element, input.value); });
    return field(T.name, input, 'p-name');
  }

  function formEditor(element, bo) {
    var fields = parseForm(getProp(bo, 'form'));
    var box = el('fieldset', { id: 'p-form' }, [el('legend', { text: T.form })]);
    function save() {
      setProp(element, bo, 'form', writeForm(fields));
      fields.forEach(function (f) { if (f.name) { setProp(element, bo, 'label.' + f.name, (f.label || '').trim()); } });
    }
    fields.forEach(function (f) { f.label = getProp(bo, 'label.' + f.name); });
    function row(f, i) {
      var name = el('input', { type: 'text', value: f.name, 'aria-label': T.field_name, 'class': 'f-name' });
      var label = el('input', { type: 'text', value: f.label || '', 'aria-label': T.field_label, 'class': 'f-label' });
      var type = el('select', { 'aria-label': T.field_type, 'class': 'f-type' },
        TYPES.map(function (t) { return el('option', { value: t, text: t }); }));
      type.value = f.type;
      var choices = el('input', { type: 'text', value: f.choices, 'aria-label': T.choices, 'class': 'f-choices' });
      var req = el('input', { type: 'checkbox', checked: f.required, 'class': 'f-required' });
      var remove = el('button', { type: 'button', text: T.remove, 'class': 'f-remove' });
      name.addEventListener('change', function () {
        if (f.name && f.name !== name.value.trim()) { setProp(element, bo, 'label.' + f.name, ''); }
        f.name = name.value.trim(); save();
      });
      label.addEventListener('change', function () { f.label = label.value; save(); });
      type.addEventListener('change', function () { f.type = type.value; save(); });
      choices.addEventListener('change', function () { f.choices = choices.value.trim(); save(); });
      req.addEventListener('change', function () { f.required = req.checked; save(); });
      remove.addEventListener('click', function () {
        if (f.name) { setProp(element, bo, 'label.' + f.name, ''); }
        fields.splice(i, 1); save(); render(selected);
      });
      return el('div', { 'class': 'form-field' }, [
        el('label', { text: T.field_name }), name, el('label', { text: T.field_label }), label,
        el('label', { text: T.field_type }), type, el('label', { text: T.choices }), choices,
        el('label', {}, [req, document.createTextNode(' ' + T.required)]), remove]);
    }
    fields.forEach(function (f, i) { box.appendChild(row(f, i)); });
    var add = el('button', { type: 'button', id: 'add-field', text: T.add_field });
    add.addEventListener('click', function () {
      fields.push({ name: '', label: '', type: 'text', choices: '', required: false });
      box.insertBefore(row(fields[fields.length - 1], fields.length - 1), add);
    });
    box.appendChild(add);
    return box;
  }

  function papersEditor(element, bo) {
    var box = el('fieldset', { id: 'p-papers' }, [el('legend', { text: T.papers })]);
    propNames(bo, 'paper.').forEach(function (n) {
      var input = el('input', { type: 'text', value: getProp(bo, n), 'aria-label': n });
      input.addEventListener('change', function () { setProp(element, bo, n, input.value.trim()); });
      box.appendChild(el('div', {}, [el('label', { text: n.slice(6) }), input]));
    });
    var code = el('input', { type: 'text', 'aria-label': T.paper_code, placeholder: T.paper_code });
    var value = el('input', { type: 'text', 'aria-label': T.paper_name,
      placeholder: 'required | ' + T.paper_name + ' | ' + T.legal_basis });
    var add = el('button', { type: 'button', text: T.add_paper });
    add.addEventListener('click', function () {
      if (code.value.trim() && value.value.trim()) { setProp(element, bo, 'paper.' + code.value.trim(), value.value.trim()); render(selected); }
    });
    box.appendChild(el('div', {}, [code, value, add]));
    return box;
  }

  function ownerSelect(element) {
    var bo = element.businessObject;
    var lane = laneOf(element);
    var select = el('select', {}, [el('option', { value: '', text: lane ? fmt(T.owner_lane, { role: ROLE_NAMES[lane] || lane }) : T.no_lane })]
      .concat(ROLES.map(function (r) { return el('option', { value: r.code, text: r.name + ' (' + r.code + ')' }); })));
    select.value = bo.get('camunda:candidateGroups') || '';
    select.addEventListener('change', function () {
      modeling.updateProperties(element, { 'camunda:candidateGroups': select.value || undefined });
    });
    return field(T.owner, select, 'p-owner');
  }

  function stepPanel(element) {
    var bo = element.businessObject;
    var clock = el('select', {}, [el('option', { value: 'run', text: T.run }), el('option', { value: 'paused', text: T.paused })]);
    clock.value = getProp(bo, 'clock') || 'run';
    clock.addEventListener('change', function () { setProp(element, bo, 'clock', clock.value === 'run' ? '' : clock.value); });
    var signed = el('input', { type: 'checkbox', checked: getProp(bo, 'signed') === 'true', id: 'p-signed' });
    signed.addEventListener('change', function () { setProp(element, bo, 'signed', signed.checked ? 'true' : ''); });
    var parts = [
      el('p', { 'class': 'muted', text: T.step + ' · ' + bo.id }), idProp(element), nameProp(element), ownerSelect(element),
      limitProp(element, bo, 'sla', T.limit), field(T.clock, clock, 'p-clock'),
      textProp(element, bo, 'legal_basis', T.legal_basis), textProp(element, bo, 'result', T.result),
      el('div', {}, [el('label', { 'for': 'p-signed' }, [signed, document.createTextNode(' ' + T.signed)])]),
      formEditor(element, bo), textProp(element, bo, 'refusal', T.refusal),
      textProp(element, bo, 'refusal_reason', T.refusal_reason)
    ];
    var loop = bo.loopCharacteristics;
    if (loop && loop.$type === 'bpmn:MultiInstanceLoopCharacteristics' && !loop.isSequential) {
      parts.splice(4, 0, agenciesEditor(element, bo));
    }
    return parts;
  }

  /* A consultation (a parallel multi-instance step, decision 0163) runs once per agency: the roles
   * consulted, written as the step's `instances` property (the owner above does not apply to them). */
  function agenciesEditor(element, bo) {
    var chosen = (getProp(bo, 'instances') || '').split('|').filter(Boolean);
    var box = el('fieldset', { id: 'p-instances' }, [el('legend', { text: T.agencies })]);
    ROLES.forEach(function (r) {
      var box_ = el('input', { type: 'checkbox', value: r.code, checked: chosen.indexOf(r.code) >= 0, 'class': 'f-agency' });
      box_.addEventListener('change', function () {
        var now = Array.prototype.filter.call(box.querySelectorAll('.f-agency'), function (c) { return c.checked; })
          .map(function (c) { return c.value; });
        setProp(element, bo, 'instances', now.join('|'));
      });
      box.appendChild(el('div', {}, [el('label', {}, [box_, document.createTextNode(' ' + r.name + ' (' + r.code + ')')])]));
    });
    return box;
  }

  /* A call activity runs a deployed fragment (decision 0166): its called element is the fragment's code;
   * the version in force is bound when the calling procedure is deployed. */
  function callPanel(element) {
    var bo = element.businessObject;
    var select = el('select', { id: 'p-fragment' }, [el('option', { value: '', text: T.no_fragment })]
      .concat(FRAGMENTS.map(function (f) {
        return el('option', { value: f.code, text: f.name + ' (' + f.code + ', ' + fmt(T.fragment_version, { v: f.version }) + ')' });
      })));
    var current = bo.get('calledElement') || '';
    if (current && !FRAGMENTS.some(function (f) { return f.code === current; })) {
      select.appendChild(el('option', { value: current, text: current }));  /* the check says it is missing */
    }
    select.value = current;
    select.addEventListener('change', function () {
      modeling.updateProperties(element, { calledElement: select.value || undefined });
    });
    return [el('p', { 'class': 'muted', text: T.call + ' · ' + bo.id }), nameProp(element),
      field(T.fragment, select, 'p-fragment'), el('p', { 'class': 'muted', text: T.call_hint })];
  }

  function messageDefinition(bo) {
    return (bo.eventDefinitions || []).filter(function (d) { return d.$type === 'bpmn:MessageEventDefinition'; })[0];
  }

  /* A message catch event waits for another agency's answer (decision 0160): the message's name (a
   * bpmn:Message at the file's root, made or reused here), the role whose officers may deliver it, the
   * clock while waiting and the answer's fields. */
  function messagePanel(element, definition) {
    var bo = element.businessObject;
    var name = el('input', { type: 'text', id: 'p-message', value: (definition.messageRef && definition.messageRef.name) || '' });
    name.addEventListener('change', function () {
      var wanted = name.value.trim();
      if (!wanted) { return; }
      var defs = modeler.getDefinitions();
      var roots = defs.get('rootElements');
      var message = roots.filter(function (r) { return r.$type === 'bpmn:Message' && r.name === wanted; })[0];
      if (!message) {
        message = bpmnFactory.create('bpmn:Message', { name: wanted });
        message.$parent = defs;
        modeling.updateModdleProperties(element, defs, { rootElements: roots.concat([message]) });
      }
      modeling.updateModdleProperties(element, definition, { messageRef: message });
    });
    var from = el('select', { id: 'p-from-role' }, [el('option', { value: '', text: T.choose_role })]
      .concat(ROLES.map(function (r) { return el('option', { value: r.code, text: r.name + ' (' + r.code + ')' }); })));
    from.value = getProp(bo, 'from_role') || '';
    from.addEventListener('change', function () { setProp(element, bo, 'from_role', from.value); });
    var clock = el('select', {}, [el('option', { value: 'run', text: T.run }), el('option', { value: 'paused', text: T.paused })]);
    clock.value = getProp(bo, 'clock') || 'run';
    clock.addEventListener('change', function () { setProp(element, bo, 'clock', clock.value === 'run' ? '' : clock.value); });
    return [el('p', { 'class': 'muted', text: T.message_wait + ' · ' + bo.id }), nameProp(element),
      field(T.message_name, name, 'p-message'), el('p', { 'class': 'muted', text: T.message_hint }),
      field(T.from_role, from, 'p-from-role'), field(T.clock, clock, 'p-clock'), formEditor(element, bo)];
  }

  function procedurePanel(element) {
    var proc = processOf(element);
    if (!proc) { return [el('p', { text: T.no_props })]; }
    return [
      el('p', { 'class': 'muted', text: T.procedure + ' · ' + proc.id }),
      limitProp(element, proc, 'sla', T.sla), textProp(element, proc, 'legal_basis', T.legal_basis),
      limitProp(element, proc, 'remote_extension', T.remote_extension), papersEditor(element, proc)
    ];
  }

  function render(element) {
    if (root.dataset.ready !== 'true') { return; }
    selected = element;
    panel.textContent = '';
    var parts;
    if (!element || element.type === 'bpmn:Participant' || element.type === 'bpmn:Process') {
      parts = procedurePanel(element && element.type === 'bpmn:Participant' ? element : procedureElement());
    } else if (element.type === 'bpmn:UserTask') {
      parts = stepPanel(element);
    } else if (element.type === 'bpmn:CallActivity') {
      parts = callPanel(element);
    } else if ((element.type === 'bpmn:IntermediateCatchEvent' || element.type === 'bpmn:BoundaryEvent') &&
               messageDefinition(element.businessObject)) {
      parts = messagePanel(element, messageDefinition(element.businessObject));
    } else {
      parts = [el('p', { 'class': 'muted', text: T.element + ' · ' + element.businessObject.id }), nameProp(element),
        el('p', { text: T.no_props })];
    }
    parts.forEach(function (p) { panel.appendChild(p); });
  }

  /* A label being typed on the canvas is finished before the panel is used: otherwise finishing it later
   * (an empty label on a new step) would overwrite the name just given in the panel. */
  panel.addEventListener('focusin', function () {
    var editing = modeler.get('directEditing');
    if (editing.isActive()) { completing = true; try { editing.complete(); } finally { completing = false; } }
  });
  modeler.on('selection.changed', function (e) {
    var next = e.newSelection.length === 1 ? e.newSelection[0] : null;
    if (next !== selected || !panel.contains(document.activeElement)) { render(next); }
  });
  /* A change made elsewhere (undo, a label typed on the canvas) shows in the panel; one made in the panel
   * does not redraw it under the supervisor's cursor. Deferred: finishing a label on the canvas blurs it
   * before the focus reaches the panel. */
  modeler.on('element.changed', function (e) {
    if (!selected || e.element !== selected) { return; }
    setTimeout(function () {
      if (!completing && !panel.contains(document.activeElement)) { render(selected); }
    }, 0);
  });

  /* -- the engine's check ---------------------------------------------------------------------- */
  var status = document.getElementById('check-status');
  var list = document.getElementById('problems');
  var timer = null;
  var seq = 0;

  function post(url, xml) {
    var body = new URLSearchParams();
    body.set('csrf_token', root.dataset.csrf);
    body.set('bpmn', xml);
    return fetch(url, { method: 'POST', body: body, credentials: 'same-origin', headers: { Accept: 'application/json' } });
  }

  function markProblems(problems) {
    overlays.remove({ type: 'lf-problem' });
    registry.forEach(function (e) { canvas.removeMarker(e.id, 'lf-problem'); });
    var counts = {};
    problems.forEach(function (p) {
      var id = (p.element || '').split('/')[0];
      if (registry.get(id)) { counts[id] = (counts[id] || 0) + 1; }
    });
    Object.keys(counts).forEach(function (id) {
      canvas.addMarker(id, 'lf-problem');
      var badge = el('span', { 'class': 'lf-problem-badge', 'data-element': id, title: problems.filter(function (p) {
        return (p.element || '').split('/')[0] === id; }).map(function (p) { return p.text; }).join('\n'), text: '⚠ ' + counts[id] });
      overlays.add(id, 'lf-problem', { position: { top: -12, right: 12 }, html: badge });
    });
  }

  function showCheck(report) {
    lastProblems = report.problems;
    list.textContent = '';
    report.problems.forEach(function (p) {
      var item = el('li', { 'data-element': p.element, 'data-rule': p.rule }, [
        el('strong', { text: p.element || '' }), document.createTextNode(' '),
        el('span', { 'class': 'rule', text: '[' + p.rule + ']' }), document.createTextNode(' ' + p.text)]);
      item.addEventListener('click', function () {
        var target = registry.get((p.element || '').split('/')[0]);
        if (target) { selection.select(target); }
      });
      list.appendChild(item);
    });
    var six = fmt(T.six, { p: Math.round(report.completeness * 100) + '%' });
    status.textContent = (report.problems.length ? fmt(T.n_problems, { n: report.problems.length }) : T.clear) + ' ' + six;
    status.className = report.problems.length ? 'flash error' : 'flash success';
    status.dataset.problems = String(report.problems.length);
    markProblems(report.problems);
  }

  function runCheck() {
    var mine = ++seq;
    status.textContent = T.checking;
    status.removeAttribute('data-problems');
    return modeler.saveXML({ format: true }).then(function (r) { return post(root.dataset.check, r.xml); })
      .then(function (resp) { return resp.json(); })
      .then(function (report) { if (mine === seq) { showCheck(report); } })
      .catch(function () { if (mine === seq) { status.textContent = T.check_failed; } });
  }
  function scheduleCheck() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(runCheck, 600);
  }
  modeler.on('commandStack.changed', scheduleCheck);

  /* -- saving a draft --------------------------------------------------------------------------- */
  var saveStatus = document.getElementById('save-status');
  document.getElementById('save-draft').addEventListener('click', function () {
    saveStatus.textContent = T.saving;
    modeler.saveXML({ format: true }).then(function (r) { return post(root.dataset.save, r.xml); })
      .then(function (resp) { return resp.json(); })
      .then(function (answer) {
        saveStatus.textContent = answer.message + ' ';
        if (answer.drafts) {
          saveStatus.appendChild(el('a', { href: answer.whatif, id: 'to-whatif', text: T.open_whatif }));
          saveStatus.appendChild(document.createTextNode(' · '));
          saveStatus.appendChild(el('a', { href: answer.drafts, id: 'to-drafts', text: T.open_drafts }));
          history.replaceState(null, '', answer.modeler);
        }
      });
  });

  /* A consultation's loop names its collections by name (`<loopDataInputRef>agencies</…>`, as SpiffWorkflow
   * reads them); bpmn-js resolves such a reference to an element of that id and drops it when there is
   * none, which would break the step on the first save. So before opening, each name without an element
   * gets a `dataObject` of that id in its process (or sub-process): the references survive, and the
   * engine ignores the data objects (decision 0175). */
  function keepLoopReferences(xml) {
    var doc = new DOMParser().parseFromString(xml, 'application/xml');
    if (doc.getElementsByTagName('parsererror').length) { return xml; }
    var ids = {};
    Array.prototype.forEach.call(doc.getElementsByTagName('*'), function (e) { if (e.getAttribute('id')) { ids[e.getAttribute('id')] = true; } });
    var changed = false;
    ['loopDataInputRef', 'loopDataOutputRef'].forEach(function (tag) {
      Array.prototype.forEach.call(doc.getElementsByTagNameNS(BPMN_NS, tag), function (ref) {
        var name = (ref.textContent || '').trim();
        if (!/^[A-Za-z_][\w.-]*$/.test(name) || ids[name]) { return; }
        var box = ref.parentNode;
        while (box && !(box.namespaceURI === BPMN_NS && (box.localName === 'process' || box.localName === 'subProcess'))) { box = box.parentNode; }
        if (!box) { return; }
        var data = doc.createElementNS(BPMN_NS, (ref.prefix ? ref.prefix + ':' : '') + 'dataObject');
        data.setAttribute('id', name);
        data.setAttribute('name', name);
        box.appendChild(data);
        ids[name] = true;
        changed = true;
      });
    });
    return changed ? new XMLSerializer().serializeToString(doc) : xml;
  }

  /* -- open -------------------------------------------------------------------------------------- */
  fetch(root.dataset.source, { credentials: 'same-origin' }).then(function (r) {
    if (!r.ok) { throw new Error(String(r.status)); }
    return r.text();
  })
    .then(function (xml) { return modeler.importXML(keepLoopReferences(xml)); })
    .then(function () { canvas.zoom('fit-viewport'); root.dataset.ready = 'true'; render(null); return runCheck(); })
    .catch(function () { status.textContent = T.open_failed; status.className = 'flash error'; });
  window.landflowModeler = modeler;  /* for the browser tests and the curious */
}());
