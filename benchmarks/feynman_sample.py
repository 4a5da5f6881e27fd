"""The AI Feynman database of physics equations, as SRBench uses it for ground truth, and the sampled tables.

**The equations.** ``FeynmanEquations.csv`` of the Feynman Symbolic Regression Database (Udrescu & Tegmark 2020,
"AI Feynman: a physics-inspired method for symbolic regression", Science Advances 6, eaay2631;
https://space.mit.edu/home/tegmark/aifeynman.html) lists 100 equations from the Feynman Lectures on Physics: each
one's name (``I.6.2a``), output, formula as text, and every variable with the interval it is sampled from.
`TABLE_CSV` holds its 100 rows verbatim (trailing empty fields dropped), copied from the mirror in
github.com/bjbcjwsq/PSRN_baseline at commit 72fbd994fb1f66537c4cc8154e409107bc7bd16d (file ``FeynmanEquations.csv``)
and compared with two others (DhananjayAshok/LGGA, edfink234/Alpha-Zero-Symbolic-Regression,
KenWuqianghao/Transformer-SR-Benchmarks): they agree on every formula, variable and range except that one writes
``Gamma`` for the variable ``gamma`` (kept lower-case here, as the others), one writes unary minus as ``~``, and one
corrects the ``# variables`` column, which in the original is wrong for six rows (`COUNT_ERRATA`); lawbook uses the
listed variables, never that count. SRBench (La Cava et al. 2021) takes the same equations through PMLB's
``feynman_*`` datasets (formula and ranges in each dataset's metadata).

**Formula text → SymPy.** Each formula is read by `theory.parse.parse_expression` (an allow-list parser, never
``sympify``), with the variables as the only names, after two function names are spelled as the parser knows them
(`FUNCTION_SPELLINGS`: ``arcsin`` → ``asin``, ``ln`` → ``log``); ``pi`` is SymPy's π and integer ratios such as
``1/2`` stay exact rationals. The symbols are `discover.feature_symbols` of the column names (plain, ``real=True``),
so an expression from `discover.discover` on a table from `make_table` shares them.

**Column names.** A table's columns are the variables' names, made into Python identifiers by `column_name` (every
database name already is one, so `FeynmanEquation.columns` maps each name to itself today); the target column is
the table's ``Output``.

**Sampling.** As the database was made: each variable uniform on its (low, high) interval, independently, and the
output computed from the formula, here in float64 (`make_table`). With ``noise`` > 0 the target gets Gaussian noise
of standard deviation ``noise · rms(y)``, SRBench's ``target_noise`` rule (noise levels 0, 0.001, 0.01, 0.1).

**The sample.** `SAMPLE` is a uniform draw of `SAMPLE_SIZE` (20) of the 100 equations without replacement,
``numpy.random.default_rng(SAMPLE_SEED).choice(100, 20, replace=False)`` over the table's rows in order, listed in
table order: a fixed, stated seed, so that the sample is not chosen by hand. ``python -m benchmarks.feynman_sample``
prints it.

>>> eq = get_equation("I.6.2a")
>>> eq.expr, dict(eq.ranges)
(sqrt(2)*exp(-theta**2/2)/(2*sqrt(pi)), {'theta': (1.0, 3.0)})
>>> make_table(eq, 3, seed=0).columns.tolist()
['theta', 'f']
"""

from __future__ import annotations

import csv
import difflib
import io
import keyword
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd
import sympy as sp

from discover.backends.base import feature_symbols
from discover.snapping import evaluate
from theory.parse import CONSTANTS, FUNCTIONS, parse_expression

__all__ = [
    "COUNT_ERRATA",
    "EQUATIONS",
    "FUNCTION_SPELLINGS",
    "SAMPLE",
    "SAMPLE_SEED",
    "SAMPLE_SIZE",
    "TABLE_CSV",
    "FeynmanEquation",
    "column_name",
    "draw_sample",
    "get_equation",
    "make_table",
]

SAMPLE_SEED = 10  # issue 10, which asked for the benchmark; fixed before the draw was seen
SAMPLE_SIZE = 20

# The database's function names that the allow-list parser spells differently.
FUNCTION_SPELLINGS: Mapping[str, str] = MappingProxyType({"arcsin": "asin", "ln": "log"})

# Rows whose '# variables' column disagrees with the variables the row lists (and its formula uses):
# name -> (the column's count, the number listed).
COUNT_ERRATA: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "I.18.12": (2, 3),
        "I.18.14": (3, 4),
        "I.38.12": (3, 4),
        "II.37.1": (6, 3),
        "III.10.19": (3, 4),
        "III.19.51": (4, 5),
    }
)

TABLE_CSV = """\
Filename,Number,Output,Formula,# variables,v1_name,v1_low,v1_high,v2_name,v2_low,v2_high,v3_name,v3_low,v3_high,v4_name,v4_low,v4_high,v5_name,v5_low,v5_high,v6_name,v6_low,v6_high,v7_name,v7_low,v7_high,v8_name,v8_low,v8_high,v9_name,v9_low,v9_high,v10_name,v10_low,v10_high
I.6.2a,1,f,exp(-theta**2/2)/sqrt(2*pi),1,theta,1,3
I.6.2,2,f,exp(-(theta/sigma)**2/2)/(sqrt(2*pi)*sigma),2,sigma,1,3,theta,1,3
I.6.2b,3,f,exp(-((theta-theta1)/sigma)**2/2)/(sqrt(2*pi)*sigma),3,sigma,1,3,theta,1,3,theta1,1,3
I.8.14,4,d,sqrt((x2-x1)**2+(y2-y1)**2),4,x1,1,5,x2,1,5,y1,1,5,y2,1,5
I.9.18,5,F,G*m1*m2/((x2-x1)**2+(y2-y1)**2+(z2-z1)**2),9,m1,1,2,m2,1,2,G,1,2,x1,3,4,x2,1,2,y1,3,4,y2,1,2,z1,3,4,z2,1,2
I.10.7,6,m,m_0/sqrt(1-v**2/c**2),3,m_0,1,5,v,1,2,c,3,10
I.11.19,7,A,x1*y1+x2*y2+x3*y3,6,x1,1,5,x2,1,5,x3,1,5,y1,1,5,y2,1,5,y3,1,5
I.12.1,8,F,mu*Nn,2,mu,1,5,Nn,1,5
I.12.2,10,F,q1*q2*r/(4*pi*epsilon*r**3),4,q1,1,5,q2,1,5,epsilon,1,5,r,1,5
I.12.4,11,Ef,q1*r/(4*pi*epsilon*r**3),3,q1,1,5,epsilon,1,5,r,1,5
I.12.5,12,F,q2*Ef,2,q2,1,5,Ef,1,5
I.12.11,13,F,q*(Ef+B*v*sin(theta)),5,q,1,5,Ef,1,5,B,1,5,v,1,5,theta,1,5
I.13.4,9,K,1/2*m*(v**2+u**2+w**2),4,m,1,5,v,1,5,u,1,5,w,1,5
I.13.12,14,U,G*m1*m2*(1/r2-1/r1),5,m1,1,5,m2,1,5,r1,1,5,r2,1,5,G,1,5
I.14.3,15,U,m*g*z,3,m,1,5,g,1,5,z,1,5
I.14.4,16,U,1/2*k_spring*x**2,2,k_spring,1,5,x,1,5
I.15.3x,17,x1,(x-u*t)/sqrt(1-u**2/c**2),4,x,5,10,u,1,2,c,3,20,t,1,2
I.15.3t,18,t1,(t-u*x/c**2)/sqrt(1-u**2/c**2),4,x,1,5,c,3,10,u,1,2,t,1,5
I.15.1,19,p,m_0*v/sqrt(1-v**2/c**2),3,m_0,1,5,v,1,2,c,3,10
I.16.6,20,v1,(u+v)/(1+u*v/c**2),3,c,1,5,v,1,5,u,1,5
I.18.4,21,r,(m1*r1+m2*r2)/(m1+m2),4,m1,1,5,m2,1,5,r1,1,5,r2,1,5
I.18.12,22,tau,r*F*sin(theta),2,r,1,5,F,1,5,theta,0,5
I.18.14,23,L,m*r*v*sin(theta),3,m,1,5,r,1,5,v,1,5,theta,1,5
I.24.6,24,E_n,1/2*m*(omega**2+omega_0**2)*1/2*x**2,4,m,1,3,omega,1,3,omega_0,1,3,x,1,3
I.25.13,25,Volt,q/C,2,q,1,5,C,1,5
I.26.2,26,theta1,arcsin(n*sin(theta2)),2,n,0,1,theta2,1,5
I.27.6,27,foc,1/(1/d1+n/d2),3,d1,1,5,d2,1,5,n,1,5
I.29.4,28,k,omega/c,2,omega,1,10,c,1,10
I.29.16,29,x,sqrt(x1**2+x2**2-2*x1*x2*cos(theta1-theta2)),4,x1,1,5,x2,1,5,theta1,1,5,theta2,1,5
I.30.3,30,Int,Int_0*sin(n*theta/2)**2/sin(theta/2)**2,3,Int_0,1,5,theta,1,5,n,1,5
I.30.5,31,theta,arcsin(lambd/(n*d)),3,lambd,1,2,d,2,5,n,1,5
I.32.5,32,Pwr,q**2*a**2/(6*pi*epsilon*c**3),4,q,1,5,a,1,5,epsilon,1,5,c,1,5
I.32.17,33,Pwr,(1/2*epsilon*c*Ef**2)*(8*pi*r**2/3)*(omega**4/(omega**2-omega_0**2)**2),6,epsilon,1,2,c,1,2,Ef,1,2,r,1,2,omega,1,2,omega_0,3,5
I.34.8,34,omega,q*v*B/p,4,q,1,5,v,1,5,B,1,5,p,1,5
I.34.1,35,omega,omega_0/(1-v/c),3,c,3,10,v,1,2,omega_0,1,5
I.34.14,36,omega,(1+v/c)/sqrt(1-v**2/c**2)*omega_0,3,c,3,10,v,1,2,omega_0,1,5
I.34.27,37,E_n,(h/(2*pi))*omega,2,omega,1,5,h,1,5
I.37.4,38,Int,I1+I2+2*sqrt(I1*I2)*cos(delta),3,I1,1,5,I2,1,5,delta,1,5
I.38.12,39,r,4*pi*epsilon*(h/(2*pi))**2/(m*q**2),3,m,1,5,q,1,5,h,1,5,epsilon,1,5
I.39.1,40,E_n,3/2*pr*V,2,pr,1,5,V,1,5
I.39.11,41,E_n,1/(gamma-1)*pr*V,3,gamma,2,5,pr,1,5,V,1,5
I.39.22,42,pr,n*kb*T/V,4,n,1,5,T,1,5,V,1,5,kb,1,5
I.40.1,43,n,n_0*exp(-m*g*x/(kb*T)),6,n_0,1,5,m,1,5,x,1,5,T,1,5,g,1,5,kb,1,5
I.41.16,44,L_rad,h/(2*pi)*omega**3/(pi**2*c**2*(exp((h/(2*pi))*omega/(kb*T))-1)),5,omega,1,5,T,1,5,h,1,5,kb,1,5,c,1,5
I.43.16,45,v,mu_drift*q*Volt/d,4,mu_drift,1,5,q,1,5,Volt,1,5,d,1,5
I.43.31,46,D,mob*kb*T,3,mob,1,5,T,1,5,kb,1,5
I.43.43,47,kappa,1/(gamma-1)*kb*v/A,4,gamma,2,5,kb,1,5,A,1,5,v,1,5
I.44.4,48,E_n,n*kb*T*ln(V2/V1),5,n,1,5,kb,1,5,T,1,5,V1,1,5,V2,1,5
I.47.23,49,c,sqrt(gamma*pr/rho),3,gamma,1,5,pr,1,5,rho,1,5
I.48.2,50,E_n,m*c**2/sqrt(1-v**2/c**2),3,m,1,5,v,1,2,c,3,10
I.50.26,51,x,x1*(cos(omega*t)+alpha*cos(omega*t)**2),4,x1,1,3,omega,1,3,t,1,3,alpha,1,3
II.2.42,52,Pwr,kappa*(T2-T1)*A/d,5,kappa,1,5,T1,1,5,T2,1,5,A,1,5,d,1,5
II.3.24,53,flux,Pwr/(4*pi*r**2),2,Pwr,1,5,r,1,5
II.4.23,54,Volt,q/(4*pi*epsilon*r),3,q,1,5,epsilon,1,5,r,1,5
II.6.11,55,Volt,1/(4*pi*epsilon)*p_d*cos(theta)/r**2,4,epsilon,1,3,p_d,1,3,theta,1,3,r,1,3
II.6.15a,56,Ef,p_d/(4*pi*epsilon)*3*z/r**5*sqrt(x**2+y**2),6,epsilon,1,3,p_d,1,3,r,1,3,x,1,3,y,1,3,z,1,3
II.6.15b,57,Ef,p_d/(4*pi*epsilon)*3*cos(theta)*sin(theta)/r**3,4,epsilon,1,3,p_d,1,3,theta,1,3,r,1,3
II.8.7,58,E_n,3/5*q**2/(4*pi*epsilon*d),3,q,1,5,epsilon,1,5,d,1,5
II.8.31,59,E_den,epsilon*Ef**2/2,2,epsilon,1,5,Ef,1,5
II.10.9,60,Ef,sigma_den/epsilon*1/(1+chi),3,sigma_den,1,5,epsilon,1,5,chi,1,5
II.11.3,61,x,q*Ef/(m*(omega_0**2-omega**2)),5,q,1,3,Ef,1,3,m,1,3,omega_0,3,5,omega,1,2
II.11.17,62,n,n_0*(1+p_d*Ef*cos(theta)/(kb*T)),6,n_0,1,3,kb,1,3,T,1,3,theta,1,3,p_d,1,3,Ef,1,3
II.11.20,63,Pol,n_rho*p_d**2*Ef/(3*kb*T),5,n_rho,1,5,p_d,1,5,Ef,1,5,kb,1,5,T,1,5
II.11.27,64,Pol,n*alpha/(1-(n*alpha/3))*epsilon*Ef,4,n,0,1,alpha,0,1,epsilon,1,2,Ef,1,2
II.11.28,65,theta,1+n*alpha/(1-(n*alpha/3)),2,n,0,1,alpha,0,1
II.13.17,66,B,1/(4*pi*epsilon*c**2)*2*I/r,4,epsilon,1,5,c,1,5,I,1,5,r,1,5
II.13.23,67,rho_c,rho_c_0/sqrt(1-v**2/c**2),3,rho_c_0,1,5,v,1,2,c,3,10
II.13.34,68,j,rho_c_0*v/sqrt(1-v**2/c**2),3,rho_c_0,1,5,v,1,2,c,3,10
II.15.4,69,E_n,-mom*B*cos(theta),3,mom,1,5,B,1,5,theta,1,5
II.15.5,70,E_n,-p_d*Ef*cos(theta),3,p_d,1,5,Ef,1,5,theta,1,5
II.21.32,71,Volt,q/(4*pi*epsilon*r*(1-v/c)),5,q,1,5,epsilon,1,5,r,1,5,v,1,2,c,3,10
II.24.17,72,k,sqrt(omega**2/c**2-pi**2/d**2),3,omega,4,6,c,1,2,d,2,4
II.27.16,73,flux,epsilon*c*Ef**2,3,epsilon,1,5,c,1,5,Ef,1,5
II.27.18,74,E_den,epsilon*Ef**2,2,epsilon,1,5,Ef,1,5
II.34.2a,75,I,q*v/(2*pi*r),3,q,1,5,v,1,5,r,1,5
II.34.2,76,mom,q*v*r/2,3,q,1,5,v,1,5,r,1,5
II.34.11,77,omega,g_*q*B/(2*m),4,g_,1,5,q,1,5,B,1,5,m,1,5
II.34.29a,78,mom,q*h/(4*pi*m),3,q,1,5,h,1,5,m,1,5
II.34.29b,79,E_n,g_*mom*B*Jz/(h/(2*pi)),5,g_,1,5,h,1,5,Jz,1,5,mom,1,5,B,1,5
II.35.18,80,n,n_0/(exp(mom*B/(kb*T))+exp(-mom*B/(kb*T))),5,n_0,1,3,kb,1,3,T,1,3,mom,1,3,B,1,3
II.35.21,81,M,n_rho*mom*tanh(mom*B/(kb*T)),5,n_rho,1,5,mom,1,5,B,1,5,kb,1,5,T,1,5
II.36.38,82,f,mom*H/(kb*T)+(mom*alpha)/(epsilon*c**2*kb*T)*M,8,mom,1,3,H,1,3,kb,1,3,T,1,3,alpha,1,3,epsilon,1,3,c,1,3,M,1,3
II.37.1,83,E_n,mom*(1+chi)*B,6,mom,1,5,B,1,5,chi,1,5
II.38.3,84,F,Y*A*x/d,4,Y,1,5,A,1,5,d,1,5,x,1,5
II.38.14,85,mu_S,Y/(2*(1+sigma)),2,Y,1,5,sigma,1,5
III.4.32,86,n,1/(exp((h/(2*pi))*omega/(kb*T))-1),4,h,1,5,omega,1,5,kb,1,5,T,1,5
III.4.33,87,E_n,(h/(2*pi))*omega/(exp((h/(2*pi))*omega/(kb*T))-1),4,h,1,5,omega,1,5,kb,1,5,T,1,5
III.7.38,88,omega,2*mom*B/(h/(2*pi)),3,mom,1,5,B,1,5,h,1,5
III.8.54,89,prob,sin(E_n*t/(h/(2*pi)))**2,3,E_n,1,2,t,1,2,h,1,4
III.9.52,90,prob,(p_d*Ef*t/(h/(2*pi)))*sin((omega-omega_0)*t/2)**2/((omega-omega_0)*t/2)**2,6,p_d,1,3,Ef,1,3,t,1,3,h,1,3,omega,1,5,omega_0,1,5
III.10.19,91,E_n,mom*sqrt(Bx**2+By**2+Bz**2),3,mom,1,5,Bx,1,5,By,1,5,Bz,1,5
III.12.43,92,L,n*(h/(2*pi)),2,n,1,5,h,1,5
III.13.18,93,v,2*E_n*d**2*k/(h/(2*pi)),4,E_n,1,5,d,1,5,k,1,5,h,1,5
III.14.14,94,I,I_0*(exp(q*Volt/(kb*T))-1),5,I_0,1,5,q,1,2,Volt,1,2,kb,1,2,T,1,2
III.15.12,95,E_n,2*U*(1-cos(k*d)),3,U,1,5,k,1,5,d,1,5
III.15.14,96,m,(h/(2*pi))**2/(2*E_n*d**2),3,h,1,5,E_n,1,5,d,1,5
III.15.27,97,k,2*pi*alpha/(n*d),3,alpha,1,5,n,1,5,d,1,5
III.17.37,98,f,beta*(1+alpha*cos(theta)),3,beta,1,5,alpha,1,5,theta,1,5
III.19.51,99,E_n,-m*q**4/(2*(4*pi*epsilon)**2*(h/(2*pi))**2)*(1/n**2),4,m,1,5,q,1,5,h,1,5,n,1,5,epsilon,1,5
III.21.20,100,j,-rho_c_0*q*A_vec/m,4,rho_c_0,1,5,q,1,5,A_vec,1,5,m,1,5
"""


@dataclass(frozen=True)
class FeynmanEquation:
    """One row of the database: ``name`` (e.g. ``"I.6.2a"``), ``number`` (the table's ``Number``), ``target`` (the
    output's column name), ``formula`` (the table's text), ``expr`` (that text in SymPy, in the column symbols),
    ``ranges`` (column name → (low, high), in the table's order) and ``columns`` (database variable name → column
    name).

    >>> dict(get_equation("I.12.1").ranges)
    {'mu': (1.0, 5.0), 'Nn': (1.0, 5.0)}
    """

    name: str
    number: int
    target: str
    formula: str
    expr: sp.Expr
    ranges: Mapping[str, tuple[float, float]]
    columns: Mapping[str, str]

    @property
    def features(self) -> tuple[str, ...]:
        """The variables' column names, in the table's order."""
        return tuple(self.ranges)


def column_name(name: str) -> str:
    """``name`` as a column name: a Python identifier that the expression parser reads as a plain symbol.

    Characters that cannot be in an identifier become ``_`` (a leading digit gets ``_`` before it); a Python
    keyword, or a function or constant name of `theory.parse` (``exp``, ``pi``, ``E`` …), gets ``_`` after it.
    Every name in the database is already such an identifier and is kept.

    >>> column_name("m_0"), column_name("lambda"), column_name("E"), column_name("A-vec")
    ('m_0', 'lambda_', 'E_', 'A_vec')
    """
    text = re.sub(r"\W", "_", name.strip())
    if not text:
        raise ValueError(f"a variable name must not be empty, got {name!r}")
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text) or text in FUNCTIONS or text in CONSTANTS:
        text += "_"
    return text


def _parse_formula(text: str, names: tuple[str, ...], symbols: tuple[sp.Symbol, ...]) -> sp.Expr:
    """The formula text in SymPy: the database's function spellings replaced by the parser's, then parsed."""
    pattern = r"\b(" + "|".join(FUNCTION_SPELLINGS) + r")\b(?=\s*\()"
    spelled = re.sub(pattern, lambda m: FUNCTION_SPELLINGS[m.group(1)], text)
    return parse_expression(spelled, dict(zip(names, symbols, strict=True)))


def _read_table(text: str) -> dict[str, FeynmanEquation]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    if header[:5] != ["Filename", "Number", "Output", "Formula", "# variables"]:
        raise ValueError(f"unexpected header of the Feynman table: {header[:5]}")
    equations: dict[str, FeynmanEquation] = {}
    for row in reader:
        name, number, output, formula = row[:4]
        fields = row[5:]
        if len(fields) % 3:
            raise ValueError(f"{name}: the variables must come in (name, low, high) triples, got {fields}")
        triples = [fields[i : i + 3] for i in range(0, len(fields), 3)]
        names = tuple(t[0] for t in triples)
        columns = {n: column_name(n) for n in names}
        target = column_name(output)
        if len(set(columns.values())) != len(names) or target in columns.values():
            raise ValueError(f"{name}: column names {list(columns.values())} and target {target!r} must be distinct")
        ranges = {columns[n]: (float(lo), float(hi)) for n, lo, hi in triples}
        for column, (lo, hi) in ranges.items():
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"{name}: the range of {column} must be finite with low < high, got ({lo}, {hi})")
        symbols = feature_symbols(list(ranges))
        expr = _parse_formula(formula, names, symbols)
        used = {symbol.name for symbol in expr.free_symbols}
        if used != set(ranges):
            raise ValueError(
                f"{name}: the formula uses {sorted(used)} but the row lists the variables {sorted(ranges)}; "
                "a variable must be listed (with its range) exactly when the formula uses it"
            )
        equations[name] = FeynmanEquation(
            name=name,
            number=int(number),
            target=target,
            formula=formula,
            expr=expr,
            ranges=MappingProxyType(ranges),
            columns=MappingProxyType(columns),
        )
    return equations


EQUATIONS: Mapping[str, FeynmanEquation] = MappingProxyType(_read_table(TABLE_CSV))


def get_equation(name: FeynmanEquation | str) -> FeynmanEquation:
    """The equation called ``name`` in the database (e.g. ``"I.6.2a"``, ``"III.21.20"``); an equation is returned as is.

    Raises `KeyError` naming the unknown name, the closest known names, and where all 100 are listed.

    >>> get_equation("II.3.24").expr
    Pwr/(4*pi*r**2)
    """
    if isinstance(name, FeynmanEquation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"an equation is named by a string such as 'I.6.2a', got {type(name).__name__}")
    try:
        return EQUATIONS[name]
    except KeyError:
        close = difflib.get_close_matches(name, EQUATIONS, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(
            f"no equation {name!r} in the AI Feynman table{hint} "
            f"(names look like 'I.6.2a' or 'III.21.20'; benchmarks.feynman_sample.EQUATIONS lists all {len(EQUATIONS)})"
        ) from None


def draw_sample(seed: int = SAMPLE_SEED, size: int = SAMPLE_SIZE) -> tuple[str, ...]:
    """``size`` equation names drawn uniformly without replacement from the table's rows with
    ``numpy.random.default_rng(seed)``, returned in table order.

    >>> picked = draw_sample(0, 3)
    >>> len(set(picked)), all(name in EQUATIONS for name in picked), draw_sample(0, 3) == picked
    (3, True, True)
    """
    names = list(EQUATIONS)
    if not (isinstance(size, int) and 1 <= size <= len(names)):
        raise ValueError(f"size must be an integer from 1 to {len(names)}, got {size!r}")
    picked = np.random.default_rng(seed).choice(len(names), size=size, replace=False)
    return tuple(names[i] for i in sorted(picked))


SAMPLE: tuple[str, ...] = draw_sample()


def make_table(equation: FeynmanEquation | str, n_rows: int, seed: int, *, noise: float = 0.0) -> pd.DataFrame:
    """``n_rows`` rows of ``equation``: each variable uniform on its range, the target from the formula in float64.

    Columns are the variables in the table's order, then the target. One ``numpy.random.default_rng(seed)``
    draws the variables column by column, then (only for ``noise`` > 0) the noise, so a noisy table has the same
    inputs as the noise-free one of the same seed. ``noise`` > 0 adds N(0, (noise·rms(y))²) to each target value,
    rms(y) = √(mean y²) of the noise-free target (SRBench's ``target_noise``). Same arguments, same table.

    Raises `KeyError` for an unknown name (see `get_equation`), `ValueError` for ``n_rows`` < 1, a negative or
    non-finite ``noise``, or a seed that is not a non-negative integer.

    >>> table = make_table("I.12.1", 1000, seed=1)  # F = mu*Nn, mu and Nn uniform on [1, 5]
    >>> bool(np.allclose(table.F, table.mu * table.Nn)), bool(table.mu.between(1, 5).all())
    (True, True)
    """
    eq = get_equation(equation)
    if isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer)) or n_rows < 1:
        raise ValueError(f"n_rows must be a positive integer, got {n_rows!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0 (a fraction of rms(y), e.g. 0.01), got {noise!r}")
    rng = np.random.default_rng(seed)
    table = {name: rng.uniform(lo, hi, int(n_rows)) for name, (lo, hi) in eq.ranges.items()}
    y = np.broadcast_to(np.asarray(evaluate(eq.expr, table), dtype=np.float64), (int(n_rows),)).copy()
    if not np.all(np.isfinite(y)):
        bad = int(np.sum(~np.isfinite(y)))
        raise ValueError(f"{eq.name}: the formula is not finite at {bad} of {n_rows} sampled rows")
    if noise > 0:
        y = y + rng.normal(0.0, noise * math.sqrt(float(np.mean(y**2))), y.shape)
    table[eq.target] = y
    return pd.DataFrame(table)


def main() -> None:
    """Print the sample: name, target = formula, and each variable's range."""
    print(f"AI Feynman sample: {SAMPLE_SIZE} of {len(EQUATIONS)} equations, numpy default_rng({SAMPLE_SEED})")
    for name in SAMPLE:
        eq = EQUATIONS[name]
        ranges = ", ".join(f"{k} in [{lo:g}, {hi:g}]" for k, (lo, hi) in eq.ranges.items())
        print(f"{name:10s} {eq.target} = {eq.formula}    ({ranges})")


if __name__ == "__main__":
    main()
