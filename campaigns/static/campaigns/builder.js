// The segment builder: edits the rule tree (groups and conditions picked from the registry's list),
// keeps the hidden "rules" input in step and tells htmx (event "rules-changed") to re-count.
// The server compiles and checks every rule; this file only draws the tree.
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function option(value, label, selected) {
    var node = el("option", { value: value, text: label });
    if (selected) node.selected = true;
    return node;
  }

  // -- the tree in the page's shape <-> the rules' JSON ------------------------------------------

  function fromRules(rules) {
    if (rules && typeof rules === "object") {
      if (Array.isArray(rules.all)) return { type: "all", children: rules.all.map(fromRules) };
      if (Array.isArray(rules.any)) return { type: "any", children: rules.any.map(fromRules) };
      if (rules.not) {
        var inner = rules.not;
        if (inner && Array.isArray(inner.any)) return { type: "none", children: inner.any.map(fromRules) };
        return { type: "none", children: [fromRules(inner)] };
      }
      if (rules.field) {
        var params = {};
        Object.keys(rules).forEach(function (key) {
          if (key !== "field" && key !== "op" && key !== "value") params[key] = rules[key];
        });
        return { field: rules.field, op: rules.op, value: rules.value, params: params };
      }
    }
    return { type: "all", children: [] };
  }

  function toRules(node) {
    if (node.type) {
      // A condition whose field is not chosen yet is not part of the rules.
      var children = node.children.filter(function (child) { return child.type || child.field; }).map(toRules);
      if (node.type === "none") return { not: { any: children } };
      var group = {};
      group[node.type] = children;
      return group;
    }
    var rule = { field: node.field, op: node.op };
    if (node.value !== undefined && node.value !== null && node.value !== "") rule.value = node.value;
    Object.keys(node.params || {}).forEach(function (key) {
      var value = node.params[key];
      if (value !== undefined && value !== null && value !== "") rule[key] = value;
    });
    return rule;
  }

  function Builder(root) {
    this.root = root;
    this.input = document.querySelector(root.getAttribute("data-rules-input"));
    this.fields = JSON.parse(root.getAttribute("data-fields"));
    this.words = JSON.parse(root.getAttribute("data-labels"));
    this.byName = {};
    var self = this;
    this.fields.forEach(function (field) { self.byName[field.name] = field; });
    var initial = {};
    try { initial = JSON.parse(this.input.value || "{}"); } catch (error) { initial = {}; }
    this.tree = fromRules(initial);
    if (!this.tree.type) this.tree = { type: "all", children: [this.tree] };
    this.render();
  }

  Builder.prototype.changed = function () {
    this.input.value = JSON.stringify(toRules(this.tree));
    this.root.dispatchEvent(new Event("rules-changed", { bubbles: true }));
  };

  Builder.prototype.render = function () {
    this.root.replaceChildren(this.groupNode(this.tree, null, "rules"));
    this.input.value = JSON.stringify(toRules(this.tree));
  };

  Builder.prototype.redraw = function () {
    this.render();
    this.changed();
  };

  Builder.prototype.groupNode = function (group, parent, path) {
    var self = this;
    var box = el("div", { className: "segment-group border rounded p-2 mb-2", "data-path": path, "data-testid": "rule-group" });
    var kind = el("select", { className: "form-select form-select-sm w-auto d-inline-block", "aria-label": this.words.match, "data-testid": "group-kind" });
    ["all", "any", "none"].forEach(function (type) {
      kind.appendChild(option(type, self.words[type === "none" ? "not" : type], group.type === type));
    });
    kind.addEventListener("change", function () { group.type = kind.value; self.redraw(); });
    var head = el("div", { className: "d-flex flex-wrap align-items-center gap-2 mb-2" }, [
      el("span", { className: "small text-body-secondary", text: this.words.match }), kind,
    ]);
    if (parent) {
      var remove = el("button", { type: "button", className: "btn btn-sm btn-outline-danger ms-auto", text: this.words.remove, "data-testid": "remove-group" });
      remove.addEventListener("click", function () {
        parent.children.splice(parent.children.indexOf(group), 1);
        self.redraw();
      });
      head.appendChild(remove);
    }
    box.appendChild(head);
    if (!group.children.length) {
      box.appendChild(el("p", { className: "small text-body-secondary mb-2", text: this.words.empty }));
    }
    var key = group.type === "none" ? "not.any" : group.type;
    group.children.forEach(function (child, index) {
      var childPath = path + "." + key + "[" + index + "]";
      box.appendChild(child.type ? self.groupNode(child, group, childPath) : self.conditionNode(child, group, childPath));
    });
    var addCondition = el("button", { type: "button", className: "btn btn-sm btn-outline-primary", text: "+ " + this.words.add_condition, "data-testid": "add-condition" });
    addCondition.addEventListener("click", function () {
      group.children.push({ field: "", op: "", value: "", params: {} });
      self.render();  // nothing to count until a field is chosen
    });
    var addGroup = el("button", { type: "button", className: "btn btn-sm btn-outline-secondary", text: "+ " + this.words.add_group, "data-testid": "add-group" });
    addGroup.addEventListener("click", function () {
      group.children.push({ type: "any", children: [] });
      self.redraw();
    });
    box.appendChild(el("div", { className: "d-flex flex-wrap gap-2" }, [addCondition, addGroup]));
    return box;
  };

  Builder.prototype.fieldSelect = function (condition) {
    var select = el("select", { className: "form-select form-select-sm", "aria-label": this.words.field, "data-testid": "condition-field" });
    select.appendChild(option("", this.words.choose_field, !condition.field));
    var groups = {};
    var self = this;
    this.fields.forEach(function (field) {
      if (!groups[field.group]) {
        groups[field.group] = el("optgroup", { label: field.group });
        select.appendChild(groups[field.group]);
      }
      groups[field.group].appendChild(option(field.name, field.label, field.name === condition.field));
    });
    if (condition.field && !this.byName[condition.field]) {
      select.appendChild(option(condition.field, condition.field, true));  // shown as saved; the server names the error
    }
    select.addEventListener("change", function () {
      condition.field = select.value;
      var field = self.byName[condition.field];
      condition.op = field ? field.ops[0].value : "";
      condition.value = "";
      condition.params = {};
      if (field) field.params.forEach(function (param) { if (param.default !== null) condition.params[param.name] = param.default; });
      self.redraw();
    });
    return select;
  };

  Builder.prototype.conditionNode = function (condition, parent, path) {
    var self = this;
    var field = this.byName[condition.field];
    var row = el("div", { className: "segment-condition d-flex flex-wrap align-items-center gap-2 mb-2 p-2 bg-body-tertiary rounded", "data-path": path, "data-testid": "rule-condition" });
    row.appendChild(el("div", { className: "segment-field" }, [this.fieldSelect(condition)]));
    if (field) {
      var op = el("select", { className: "form-select form-select-sm w-auto", "aria-label": this.words.operator, "data-testid": "condition-op" });
      field.ops.forEach(function (entry) { op.appendChild(option(entry.value, entry.label, entry.value === condition.op)); });
      op.addEventListener("change", function () {
        var before = self.opKind(field, condition.op);
        condition.op = op.value;
        if (self.opKind(field, condition.op) !== before) condition.value = "";
        self.redraw();
      });
      row.appendChild(op);
      var value = this.valueWidget(field, condition);
      if (value) row.appendChild(value);
      field.params.forEach(function (param) { row.appendChild(self.paramWidget(param, condition)); });
      if (field.help) row.appendChild(el("span", { className: "small text-body-secondary", text: field.help }));
    }
    var remove = el("button", { type: "button", className: "btn btn-sm btn-outline-danger ms-auto", "aria-label": this.words.remove, text: "×", "data-testid": "remove-condition" });
    remove.addEventListener("click", function () {
      parent.children.splice(parent.children.indexOf(condition), 1);
      self.redraw();
    });
    row.appendChild(remove);
    return row;
  };

  Builder.prototype.opKind = function (field, op) {
    var found = field.ops.filter(function (entry) { return entry.value === op; })[0];
    return found ? found.value_kind : "none";
  };

  Builder.prototype.input_ = function (type, value, onChange, label) {
    var input = el("input", { type: type, className: "form-control form-control-sm w-auto", "aria-label": label || this.words.value, "data-testid": "condition-value" });
    if (type === "number") input.setAttribute("step", "any");
    input.value = value === undefined || value === null ? "" : value;
    input.addEventListener("input", function () { onChange(input.value); });
    return input;
  };

  Builder.prototype.valueWidget = function (field, condition) {
    var self = this;
    var kind = this.opKind(field, condition.op);
    var set = function (value) { condition.value = value; self.changed(); };
    var scalarType = field.type === "number" ? "number" : field.type === "date" ? "date" : "text";
    if (kind === "none") return null;
    if (kind === "days") {
      return el("span", { className: "d-inline-flex align-items-center gap-1" }, [
        this.input_("number", condition.value, set), el("span", { className: "small", text: this.words.days }),
      ]);
    }
    if (kind === "pair") {
      var pair = Array.isArray(condition.value) ? condition.value.slice() : ["", ""];
      var update = function (index) { return function (value) { pair[index] = value; set(pair.slice()); }; };
      return el("span", { className: "d-inline-flex align-items-center gap-1" }, [
        this.input_(scalarType, pair[0], update(0)), el("span", { className: "small", text: this.words.and }),
        this.input_(scalarType, pair[1], update(1)),
      ]);
    }
    if (field.choices.length) {
      var many = kind === "many";
      var select = el("select", { className: "form-select form-select-sm w-auto", "aria-label": this.words.value, "data-testid": "condition-value" });
      if (many) { select.multiple = true; select.size = Math.min(4, field.choices.length); }
      var chosen = many ? (Array.isArray(condition.value) ? condition.value.map(String) : []) : [String(condition.value)];
      if (!many) select.appendChild(option("", "…", !condition.value));
      field.choices.forEach(function (choice) { select.appendChild(option(choice[0], choice[1], chosen.indexOf(choice[0]) >= 0)); });
      select.addEventListener("change", function () {
        if (many) set(Array.from(select.selectedOptions).map(function (o) { return o.value; }));
        else set(select.value);
      });
      return select;
    }
    if (kind === "many") {
      var text = Array.isArray(condition.value) ? condition.value.join(", ") : "";
      var input = this.input_("text", text, function (value) {
        set(value.split(",").map(function (part) { return part.trim(); }).filter(Boolean));
      });
      input.setAttribute("placeholder", this.words.many_hint);
      return input;
    }
    return this.input_(scalarType, condition.value, set);
  };

  Builder.prototype.paramWidget = function (param, condition) {
    var self = this;
    var current = condition.params[param.name];
    var wrap = el("label", { className: "d-inline-flex align-items-center gap-1 small" }, [el("span", { text: param.label })]);
    if (param.kind === "int") {
      var input = this.input_("number", current, function (value) {
        condition.params[param.name] = value === "" ? "" : parseInt(value, 10);
        self.changed();
      }, param.label);
      input.setAttribute("min", param.min);
      input.setAttribute("max", param.max);
      input.setAttribute("data-testid", "condition-param-" + param.name);
      wrap.appendChild(input);
      return wrap;
    }
    var select = el("select", { className: "form-select form-select-sm w-auto", "aria-label": param.label, "data-testid": "condition-param-" + param.name });
    if (!param.required) select.appendChild(option("", this.words.any_value, !current));
    param.choices.forEach(function (choice) { select.appendChild(option(choice[0], choice[1], String(current) === choice[0])); });
    if (param.required && !current && param.choices.length) condition.params[param.name] = param.choices[0][0];
    select.addEventListener("change", function () { condition.params[param.name] = select.value; self.changed(); });
    wrap.appendChild(select);
    return wrap;
  };

  // After each count, mark the condition the server named in its error (data-error-path).
  function markError() {
    document.querySelectorAll(".segment-condition.border-danger, .segment-group.border-danger").forEach(function (node) {
      node.classList.remove("border", "border-danger");
    });
    var error = document.querySelector("[data-error-path]");
    if (!error) return;
    var path = error.getAttribute("data-error-path");
    var best = null;
    document.querySelectorAll("[data-path]").forEach(function (node) {
      var own = node.getAttribute("data-path");
      if (path === own || path.indexOf(own + ".") === 0 || path.indexOf(own + "[") === 0) {
        if (!best || own.length > best.getAttribute("data-path").length) best = node;
      }
    });
    if (best) best.classList.add("border", "border-danger");
  }

  function start() {
    document.querySelectorAll("[data-segment-builder]").forEach(function (root) {
      if (!root.dataset.bound) { root.dataset.bound = "1"; new Builder(root); }
    });
  }

  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSwap", markError);
  if (document.readyState !== "loading") start();
})();
